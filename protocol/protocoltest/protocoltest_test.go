package protocoltest

import (
	"strings"
	"testing"
)

// TestParseAirbyteStatusOrder checks that a read whose messages break the
// order of their stream's statuses fails to parse, naming the message.
func TestParseAirbyteStatusOrder(t *testing.T) {
	status := func(name, s string) string {
		return `{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1,"stream_status":{"stream_descriptor":{"name":"` + name + `"},"status":"` + s + `"}}}`
	}
	record := func(name string) string {
		return `{"type":"RECORD","record":{"stream":"` + name + `","data":{"id":"1"},"emitted_at":1}}`
	}
	state := func(name string) string {
		return `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"` + name + `"},"stream_state":{}},"sourceStats":{"recordCount":1.0}}}`
	}
	cases := []struct {
		name  string
		lines []string
		want  string // in the error; "" for none
	}{
		{"in order", []string{status("a", "STARTED"), status("b", "STARTED"), status("a", "RUNNING"), record("a"), state("a"),
			status("a", "COMPLETE"), state("b"), status("b", "INCOMPLETE")}, ""},
		{"a record before RUNNING", []string{status("a", "STARTED"), record("a")}, "before its RUNNING"},
		{"a state before STARTED", []string{status("b", "STARTED"), state("a")}, "before its STARTED"},
		{"a record after COMPLETE", []string{status("a", "STARTED"), status("a", "RUNNING"), status("a", "COMPLETE"), record("a")}, "after its COMPLETE"},
		{"two ends", []string{status("a", "STARTED"), status("a", "INCOMPLETE"), status("a", "COMPLETE")}, "after its INCOMPLETE"},
		{"RUNNING twice", []string{status("a", "STARTED"), status("a", "RUNNING"), status("a", "RUNNING")}, "RUNNING status after RUNNING"},
	}
	for _, c := range cases {
		_, err := ParseAirbyte([]byte(strings.Join(c.lines, "\n") + "\n"))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
