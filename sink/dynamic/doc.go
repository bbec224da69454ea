// Package dynamic is the sink of records without a Go struct
// (schema.Record), such as those of an API that a spec describes: a
// [Table] whose columns grow with the records. Its table starts from a
// name, a primary key and the columns declared in advance; a page that
// brings a field the table lacks adds a column, typed from the page's
// values (schema.Dynamic), and the destination's sink is opened again with
// the grown table, which adds the column as every sink of package sink
// adds a missing column. Any sink of package sink is a destination: an
// [Opener] opens it for a mapping.
package dynamic
