package protocoltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

var futureRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`)

// Stream says how to read a stream's records for the checks.
type Stream struct {
	// Cursor is the field of its records its incremental mark comes
	// from, such as "updatedAt".
	Cursor string
	// Partition, for a child stream, is the field of its records that
	// holds the partition key, such as "userId"; empty for a top-level
	// stream.
	Partition string
}

// streamState is a stream's state, as package protocol encodes it.
type streamState struct {
	Checkpoint *struct {
		HighWater string `json:"high_water"`
	} `json:"checkpoint"`
	Partitions map[string]struct {
		HighWater string `json:"high_water"`
	} `json:"partitions"`
}

// marks returns the high-water marks of a stream's state by partition
// key ("" for a top-level stream's own).
func marks(raw json.RawMessage, child bool) (map[string]string, error) {
	var st streamState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, err
	}
	m := make(map[string]string)
	if st.Checkpoint != nil && !child {
		m[""] = st.Checkpoint.HighWater
	}
	for k, p := range st.Partitions {
		m[k] = p.HighWater
	}
	return m, nil
}

// CheckStates reports each state that does not follow exactly the records
// it covers: the high-water mark of every checkpoint in it (of a top-level
// stream, of each partition of a child stream) must be the largest cursor
// value of the records of that stream or partition written before it, or
// the mark it had in initial (the states the run started from) when that
// is larger. A state written before the records of its commit claims a
// mark that no record before it reaches. For Airbyte it also checks that
// each STATE's recordCount counts the stream's records since its previous
// STATE. Streams not in streams are not checked.
func CheckStates(o *Output, initial map[string]json.RawMessage, streams map[string]Stream) error {
	start := make(map[string]map[string]time.Time)
	for name, raw := range initial {
		s, ok := streams[name]
		if !ok {
			continue
		}
		m, err := marks(raw, s.Partition != "")
		if err != nil {
			return fmt.Errorf("the initial state of %q: %w", name, err)
		}
		start[name] = make(map[string]time.Time)
		for k, v := range m {
			if t, ok := parseTime(v); ok {
				start[name][k] = t
			}
		}
	}
	seen := make(map[string]map[string]time.Time) // largest cursor written, by stream and partition
	count := make(map[string]int)                 // records since the stream's last state
	var errs []error
	ri := 0
	for _, st := range o.States {
		for ; ri < len(o.Records) && o.Records[ri].Line < st.Line; ri++ {
			r := o.Records[ri]
			count[r.Stream]++
			s, ok := streams[r.Stream]
			if !ok {
				continue
			}
			t, ok := parseTime(r.Field(s.Cursor))
			if !ok {
				errs = append(errs, fmt.Errorf("line %d: a %s record without a time in %q", r.Line, r.Stream, s.Cursor))
				continue
			}
			key := ""
			if s.Partition != "" {
				key = r.Field(s.Partition)
			}
			if seen[r.Stream] == nil {
				seen[r.Stream] = make(map[string]time.Time)
			}
			if t.After(seen[r.Stream][key]) {
				seen[r.Stream][key] = t
			}
		}
		for name, raw := range st.Streams {
			if st.RecordCount >= 0 {
				if int(st.RecordCount) != count[name] {
					errs = append(errs, fmt.Errorf("line %d: the STATE of %q counts %v records, %d were written since its last", st.Line, name, st.RecordCount, count[name]))
				}
				count[name] = 0
			}
			s, ok := streams[name]
			if !ok {
				continue
			}
			m, err := marks(raw, s.Partition != "")
			if err != nil {
				errs = append(errs, fmt.Errorf("line %d: the state of %q: %w", st.Line, name, err))
				continue
			}
			for key, hw := range m {
				want := seen[name][key]
				if t := start[name][key]; t.After(want) {
					want = t
				}
				got, ok := parseTime(hw)
				switch {
				case hw == "" && want.IsZero():
				case !ok:
					errs = append(errs, fmt.Errorf("line %d: stream %q partition %q: mark %q is not a time", st.Line, name, key, hw))
				case !got.Equal(want):
					errs = append(errs, fmt.Errorf("line %d: the state of stream %q (partition %q) has the mark %s, but the records written before it reach %s",
						st.Line, name, key, hw, want.Format(time.RFC3339)))
				}
			}
		}
	}
	if len(errs) > 10 {
		errs = append(errs[:10], fmt.Errorf("and %d more", len(errs)-10))
	}
	return errors.Join(errs...)
}

// Versions returns the records of each stream as "id@cursor" versions,
// counted: how many times each version was written.
func Versions(o *Output, streams map[string]Stream, id string) map[string]map[string]int {
	out := make(map[string]map[string]int)
	for _, r := range o.Records {
		s, ok := streams[r.Stream]
		if !ok {
			continue
		}
		if out[r.Stream] == nil {
			out[r.Stream] = make(map[string]int)
		}
		out[r.Stream][r.Field(id)+"@"+r.Field(s.Cursor)]++
	}
	return out
}
