package detect

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// records is a list of records found in a response: its path and items.
type records struct {
	path  string
	items []any
}

// wellKnown are the names APIs give their list of records.
var wellKnown = []string{"data", "results", "items", "records", "entries", "hits", "rows", "values", "list",
	"elements", "objects", "nodes", "content", "collection", "resources", "value"}

// findRecords returns the list of records of a response and, when
// another list could as well be the records, the candidates.
func findRecords(doc any) (records, []records, error) {
	if a, ok := doc.([]any); ok {
		if err := objectsOnly(a, ""); err != nil {
			return records{}, nil, err
		}
		return records{items: a}, nil, nil
	}
	var all []records
	var scalars []string
	var walk func(v any, prefix string, depth int)
	walk = func(v any, prefix string, depth int) {
		o, ok := v.(*object)
		if !ok || depth == 0 {
			return
		}
		for _, k := range o.keys {
			p := joinPath(prefix, k)
			switch x := o.vals[k].(type) {
			case []any:
				if objectsOnly(x, p) == nil {
					all = append(all, records{path: p, items: x})
				} else {
					scalars = append(scalars, p)
				}
			case *object:
				walk(x, p, depth-1)
			}
		}
	}
	walk(doc, "", 3)
	var full []records
	for _, r := range all {
		if len(r.items) > 0 {
			full = append(full, r)
		}
	}
	switch {
	case len(full) == 1:
		return full[0], nil, nil
	case len(full) == 0 && len(all) == 1:
		return all[0], nil, nil
	case len(full) == 0 && len(all) == 0:
		if len(scalars) > 0 {
			return records{}, nil, fmt.Errorf("the response's lists (%s) hold values that are not objects; a spec's records are JSON objects", strings.Join(scalars, ", "))
		}
		return records{}, nil, fmt.Errorf("the response holds no list of records")
	case len(full) == 0:
		return all[0], all, nil
	}
	// Several lists: one with a name that APIs give records wins;
	// otherwise the longest is a guess.
	var named []records
	for _, r := range full {
		if slices.Contains(wellKnown, strings.ToLower(r.path)) {
			named = append(named, r)
		}
	}
	if len(named) == 1 {
		return named[0], nil, nil
	}
	best := full[0]
	for _, r := range full[1:] {
		if len(r.items) > len(best.items) {
			best = r
		}
	}
	return best, full, nil
}

// objectsOnly reports an error when a holds values that are not objects.
func objectsOnly(a []any, path string) error {
	for _, v := range a {
		if _, ok := v.(*object); !ok {
			where := "the response"
			if path != "" {
				where = path
			}
			return fmt.Errorf("%s holds %s, not objects; a spec's records are JSON objects", where, kindOf(v))
		}
	}
	return nil
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "strings"
	case json.Number:
		return "numbers"
	case bool:
		return "booleans"
	case []any:
		return "arrays"
	case nil:
		return "nulls"
	}
	return "values"
}

// keyNames are the fields that identify records, in order of preference.
var keyNames = []string{"id", "uuid", "_id", "ID", "Id", "guid", "key", "slug", "code"}

// primaryKey returns the field that identifies the records, and others
// that could.
func primaryKey(items []any) (string, []string) {
	var found []string
	for _, name := range keyNames {
		if uniqueScalar(items, name) {
			found = append(found, name)
		}
	}
	if len(found) == 0 {
		// A field whose name ends in id, present and unique.
		for _, k := range fieldNames(items) {
			low := strings.ToLower(k)
			if (strings.HasSuffix(low, "_id") || strings.HasSuffix(low, "id")) && uniqueScalar(items, k) {
				found = append(found, k)
			}
		}
	}
	if len(found) == 0 {
		return "", nil
	}
	return found[0], found[1:]
}

// uniqueScalar reports whether every item has a string or number at name,
// each different.
func uniqueScalar(items []any, name string) bool {
	if len(items) == 0 {
		return false
	}
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		v, ok := it.(*object).get(name)
		if !ok {
			return false
		}
		switch v.(type) {
		case string, json.Number:
		default:
			return false
		}
		t := text(v)
		if t == "" || seen[t] {
			return false
		}
		seen[t] = true
	}
	return true
}

// fieldNames returns the fields of the records, in the order they first
// appear.
func fieldNames(items []any) []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range items {
		for _, k := range it.(*object).keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// markNames are the fields that tell when a record last changed, in
// order of preference; createdNames those that tell when it was made,
// which suit logs that never change.
var (
	markNames = []string{"updated_at", "updatedAt", "updated", "modified_at", "modifiedAt", "modified", "last_modified",
		"lastModified", "last_modified_at", "lastModifiedAt", "date_modified", "dateModified", "changed_at", "changedAt",
		"update_time", "updateTime", "updated_time", "mtime"}
	createdNames = []string{"created_at", "createdAt", "created", "creation_date", "date_created", "dateCreated", "create_time", "createTime", "timestamp"}
)

// markField returns the field that is the records' incremental mark,
// and others that could be.
func markField(items []any) (string, []string) {
	var found []string
	for _, names := range [][]string{markNames, createdNames} {
		for _, name := range names {
			if timestamps(items, name) {
				found = append(found, name)
			}
		}
	}
	if len(found) == 0 {
		return "", nil
	}
	return found[0], found[1:]
}

// timestamps reports whether every item has a timestamp at name: RFC 3339
// text, or a date.
func timestamps(items []any, name string) bool {
	if len(items) == 0 {
		return false
	}
	for _, it := range items {
		v, ok := it.(*object).get(name)
		if !ok {
			return false
		}
		s, ok := v.(string)
		if !ok {
			return false
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return false
			}
		}
	}
	return true
}

// keyOf returns what tells a record apart, for the overlap check: its
// key's value, or its JSON.
func keyOf(it any, key string) string {
	if key != "" {
		if v, ok := it.(*object).get(key); ok {
			return text(v)
		}
	}
	return encode(it)
}

func encode(v any) string {
	var b strings.Builder
	var w func(any)
	w = func(v any) {
		switch v := v.(type) {
		case *object:
			b.WriteByte('{')
			for i, k := range v.keys {
				if i > 0 {
					b.WriteByte(',')
				}
				kb, _ := json.Marshal(k)
				b.Write(kb)
				b.WriteByte(':')
				w(v.vals[k])
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, x := range v {
				if i > 0 {
					b.WriteByte(',')
				}
				w(x)
			}
			b.WriteByte(']')
		default:
			x, _ := json.Marshal(v)
			b.Write(x)
		}
	}
	w(v)
	return b.String()
}
