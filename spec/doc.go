// Package spec reads connector specs: YAML (or JSON) files that describe
// the streams of a REST API, their pagination, their incremental window,
// their authentication and the tables their records fill, so that a sync
// needs no Go code. The pagekit command (cmd/pagekit) runs them.
//
// A spec maps one-to-one onto the library's types: each stream is a
// strategy of package strategies, the options of paginate.Run and a
// schema.Table of records without a Go struct (schema.Record), so a spec
// can grow into Go code field by field. [Load] reads and checks a spec:
// every error names the file, the line and the column, and says which
// values would be valid. [JSONSchema] is the spec's JSON Schema, for
// editors.
package spec
