package schema

import "time"

// Value is one column value of one record, typed by its column and held
// without boxing. Which field is set depends on the column's [Type]:
//
//	String, Decimal          Str (Decimal: validated decimal text)
//	Int, Long                Int
//	Double                   Float
//	Boolean                  Bool
//	NaiveDate                Time, at midnight UTC
//	UTCDatetime              Time, in UTC, truncated to the microsecond
//	JSON                     Bytes (a valid JSON document)
//	Binary                   Bytes
//
// Null reports an SQL NULL; the other fields are then zero. Bytes may alias
// the record's memory, so a sink must copy it if it keeps it.
type Value struct {
	Null  bool
	Bool  bool
	Int   int64
	Float float64
	Str   string
	Bytes []byte
	Time  time.Time
}
