package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
)

// TestRestartFlag: a sync with another -per-page than the checkpoint of
// a sync stopped mid-way stops, and the message tells the command-line
// user about -restart, not about Options.Restart; with -restart it starts
// over from the last completed sync and says so in the summary, without
// the advice. After a completed sync, whose checkpoint holds no page, a
// new -per-page just goes on from its mark.
func TestRestartFlag(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 120, Seed: 4})
	cfg := testConfig(t, api.URL)
	syncOK(t, cfg)
	cfg.PerPage = 40
	api.Update(5)
	if res, out := syncOK(t, cfg); res.Restarted != nil || !res.Stop.Complete() || strings.Contains(out, "restarted") {
		t.Errorf("-per-page 40 after a completed sync with 50: restarted %v, stop %v:\n%s", res.Restarted, res.Stop, out)
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table after -per-page 40 (-want +got):\n%s", diff)
	}

	cfg.PerPage, cfg.Limit = 50, 10
	api.Update(70)
	if res, _ := syncOK(t, cfg); res.Stop != paginate.StopMaxItems {
		t.Fatalf("-limit 10 with 70 records changed: stop %v", res.Stop)
	}
	cfg.PerPage, cfg.Limit = 20, 0
	var stdout, stderr bytes.Buffer
	_, err := run(context.Background(), cfg, &stdout, &stderr)
	if !errors.Is(err, paginate.ErrCheckpointMismatch) {
		t.Fatalf("-per-page 20 after 50: %v, want a checkpoint mismatch", err)
	}
	msg := console.Message(err)
	for _, want := range []string{`size "50", now "20"`, "-restart", "-reset"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Options.") || strings.Contains(stdout.String(), "Options.") {
		t.Errorf("Go advice for a command-line user:\n%s\n%s", msg, stdout.String())
	}

	cfg.Restart = true
	api.Update(5)
	res, out := syncOK(t, cfg)
	if res.Restarted == nil || !strings.Contains(out, `restarted        the settings changed since the checkpoint (size "50", now "20")`) ||
		strings.Contains(out, "-restart") || strings.Contains(out, "Options.") {
		t.Errorf("-restart: restarted %v, summary:\n%s", res.Restarted, out)
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table after -restart (-want +got):\n%s", diff)
	}
}

// TestLimitFlag: -limit stops the sync after that many records, and the
// next run goes on from there.
func TestLimitFlag(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 200, Seed: 5})
	cfg := testConfig(t, api.URL)
	cfg.Limit = 60
	res, _ := syncOK(t, cfg)
	if res.Stop != paginate.StopMaxItems || res.Items < 60 || res.Items >= 200 {
		t.Errorf("-limit 60: %d records, stop %v", res.Items, res.Stop)
	}
	cfg.Limit = 0
	syncOK(t, cfg)
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table after the run that went on (-want +got):\n%s", diff)
	}
}
