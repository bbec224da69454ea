package schema

import "fmt"

// Op is what a sink does with a record. Sinks that support operations
// beyond upsert take a function that picks the Op of each record.
type Op uint8

const (
	// Upsert inserts the record, or replaces the row with the same
	// primary key. It is the zero Op.
	Upsert Op = iota
	// Delete removes the row with the record's primary key. Only the key
	// columns of the record are read.
	Delete
	// SoftDelete marks the row with the record's primary key as deleted,
	// keeping its other columns. Only the key columns are read.
	SoftDelete
)

// String returns "upsert", "delete" or "soft delete".
func (o Op) String() string {
	switch o {
	case Upsert:
		return "upsert"
	case Delete:
		return "delete"
	case SoftDelete:
		return "soft delete"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}
