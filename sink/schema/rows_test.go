package schema_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/pagekit/pagekit/sink/schema"
)

// TestRowsBadFirstRecordAllocatesLittle: a page of a million records whose
// first has no key fails at once, without room made for every row (8
// columns of a million rows would be 700 MB).
func TestRowsBadFirstRecordAllocatesLittle(t *testing.T) {
	type rec struct {
		ID                  string `pagekit:",pk"`
		A, B, C, D, E, F, G string
	}
	m := schema.Must(schema.Derive[rec]("t"))
	items := make([]rec, 1_000_000) // every key empty
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := m.Rows(items, nil)
	runtime.ReadMemStats(&after)
	var re *schema.RecordError
	if !errors.As(err, &re) || re.Index != 0 || !errors.Is(err, schema.ErrMissingKey) {
		t.Fatalf("Rows error = %v, want a *RecordError for record 0", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("Rows allocated %d bytes to refuse the first record", got)
	}
}
