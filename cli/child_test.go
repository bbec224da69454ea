package cli

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// readOrders reads the table "orders" of an SQLite file.
func readOrders(t *testing.T, path string) []mockapi.Order {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, "userId", status, amount, currency, "createdAt", "updatedAt" FROM orders ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []mockapi.Order
	for rows.Next() {
		var o mockapi.Order
		var c, u string
		if err := rows.Scan(&o.ID, &o.UserID, &o.Status, &o.Amount, &o.Currency, &c, &u); err != nil {
			t.Fatal(err)
		}
		o.CreatedAt, _ = time.Parse(time.RFC3339Nano, c)
		o.UpdatedAt, _ = time.Parse(time.RFC3339Nano, u)
		out = append(out, o)
	}
	return out
}

// mockOrders returns every order of the mock's users, by id.
func mockOrders(a *api) []mockapi.Order {
	var out []mockapi.Order
	for _, u := range a.Records() {
		os, _ := a.Orders(u.ID)
		out = append(out, os...)
	}
	slices.SortFunc(out, func(a, b mockapi.Order) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// TestChildStreamOAuth2 syncs a spec of users and each user's orders (a
// child stream, a partition per user) from the mock API behind OAuth 2.0
// client credentials, whose token endpoint echoes what it refuses; then
// again after users changed and the access tokens expired: the tables
// equal the mock's, and the client secret shows nowhere.
func TestChildStreamOAuth2(t *testing.T) {
	const secret = "cs-7a1b2c3d4e5f"
	a := serve(t, mockapi.Config{Records: 120, Seed: 5, OAuth: mockapi.OAuth{ClientID: "pagekit-test", ClientSecret: secret, Require: true}})
	t.Setenv("API", a.URL)
	t.Setenv("CLIENT_SECRET", secret)
	db := t.TempDir() + "/shop.db"
	for round := range 2 {
		if round > 0 {
			a.Update(15)
			a.ExpireTokens()
		}
		code, stdout, stderr := run(t, "sync", "testdata/shop.yaml", "-dest", "sqlite:"+db)
		if code != 0 {
			t.Fatalf("round %d: status %d\n%s%s", round, code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("round %d: the client secret shows in the output:\n%s%s", round, stdout, stderr)
		}
		if diff := cmp.Diff(byID(a.Records()), readUsers(t, db, "users")); diff != "" {
			t.Errorf("round %d: users (-mock +table):\n%s", round, diff)
		}
		if diff := cmp.Diff(mockOrders(a), readOrders(t, db)); diff != "" {
			t.Errorf("round %d: orders (-mock +table):\n%s", round, diff)
		}
	}

	// A refused secret fails the sync with the token endpoint's answer,
	// which echoes the secret, masked.
	t.Setenv("CLIENT_SECRET", "cs-wrong-0123456789")
	code, stdout, stderr := run(t, "sync", "testdata/shop.yaml", "-dest", "sqlite:"+db)
	if code == 0 || strings.Contains(stdout+stderr, "cs-wrong-0123456789") || !strings.Contains(stderr, "invalid_client") {
		t.Errorf("a refused client secret: status %d\n%s%s", code, stdout, stderr)
	}
}
