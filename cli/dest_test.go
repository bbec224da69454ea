package cli

import (
	"context"
	"testing"
)

// TestDestErrors checks the errors of -dest values the command cannot
// open: each says what would do.
func TestDestErrors(t *testing.T) {
	tests := []struct{ dest, want string }{
		{"duckdb:x.duckdb", "-dest duckdb: this pagekit is built without DuckDB, which needs cgo; the DuckDB module's pagekit has it: " +
			"in a checkout of pagekit, cd sink/duckdb && go install ./cmd/pagekit (see docs/cli.md)"},
		{"mysql:shop", `-dest mysql:shop: unknown destination "mysql:"; valid: jsonl:, parquet:, sqlite:, postgres://DSN`},
		{"jsonl:", "-dest jsonl:: name a file or directory, such as jsonl:tables"},
	}
	for _, tt := range tests {
		d, err := openDest(context.Background(), tt.dest)
		if err == nil {
			d.Close()
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("-dest %s: %v\nwant %s", tt.dest, err, tt.want)
		}
	}
}
