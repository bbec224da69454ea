// Package schema describes the tables that pagekit's sinks write and turns
// records into typed column values.
//
// A [Table] is a name, a primary key and typed columns, like the table
// definition of a connector SDK. A [Mapping] ties a table to a Go record
// type T and extracts each record's column values as [Value]s, which every
// sink then stores in its own representation. Build a mapping from a
// struct's fields with [Derive], or from a declared Table with [Bind].
//
// Column names and types come from struct tags. The pagekit tag is
//
//	pagekit:"name,option,..."
//
// where name defaults to the field's json tag name, then to the field name,
// and the options are "pk" (part of the primary key) and a [Type] name such
// as "utc_datetime" (case does not matter). pagekit:"-" leaves a field out,
// as does json:"-" unless a pagekit tag names the field. So a struct that is
// already decoded from JSON usually needs tags only for its key:
//
//	type User struct {
//		ID        string    `json:"id" pagekit:",pk"`
//		Name      string    `json:"name"`
//		UpdatedAt time.Time `json:"updatedAt"`
//	}
//
// Records without a Go struct, such as those of an API that a spec
// describes, are [Record]s: JSON objects kept as text. [Bind] maps their
// fields onto a table's columns by name, and a [Dynamic] infers that table
// from the records themselves, adding a column for each new field.
//
// A mapping validates every value against its column: a record without its
// primary key or a value that does not fit its column gives a
// *[RecordError] that names the record's key and the column, so that a sink
// can reject the page before it writes anything.
package schema
