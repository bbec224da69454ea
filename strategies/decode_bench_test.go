package strategies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

type benchUser struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Address   string `json:"address"`
	Company   string `json:"company"`
	Job       string `json:"job"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func benchBody(b *testing.B) []byte {
	data := make([]benchUser, 50)
	for i := range data {
		data[i] = benchUser{ID: fmt.Sprintf("6f1c2a9e-%04d-4f7b-9c1d-2b3a4c5d6e7f", i), Name: "Jane Doe",
			Email: "jane.doe@example.com", Address: "123 Main Street\nSpringfield, IL 62704", Company: "Acme Widgets LLC",
			Job: "Senior Software Engineer", CreatedAt: "2024-09-22T18:50:06Z", UpdatedAt: "2024-09-22T19:35:41Z"}
	}
	body, err := json.Marshal(map[string]any{"data": data, "page": 3, "page_size": 50, "total_pages": 4, "total_items": 200})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodeStruct is the baseline: one Decode into a hand-written
// struct.
func BenchmarkDecodeStruct(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v struct {
			Data       []benchUser `json:"data"`
			Page       int         `json:"page"`
			TotalPages int         `json:"total_pages"`
			TotalItems int         `json:"total_items"`
		}
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&v); err != nil || len(v.Data) != 50 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEnvelope is the strategies' path extractor on the same
// body, with the same fields read.
func BenchmarkDecodeEnvelope(b *testing.B) {
	benchEnvelope[benchUser](b, benchBody(b))
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// benchOrder is a record with a nested list, as an order has its lines:
// its decoded lines count against the page's budget.
type benchOrder struct {
	ID        string      `json:"id"`
	UserID    string      `json:"userId"`
	Status    string      `json:"status"`
	UpdatedAt string      `json:"updatedAt"`
	Tags      []string    `json:"tags"`
	Lines     []benchLine `json:"lines"`
}

type benchLine struct {
	SKU      string  `json:"sku"`
	Name     string  `json:"name"`
	Quantity int     `json:"quantity"`
	Price    float64 `json:"price"`
}

func benchOrdersBody(b *testing.B) []byte {
	data := make([]benchOrder, 50)
	for i := range data {
		data[i] = benchOrder{ID: fmt.Sprintf("ord-%04d", i), UserID: "6f1c2a9e-0001-4f7b-9c1d-2b3a4c5d6e7f", Status: "shipped",
			UpdatedAt: "2024-09-22T19:35:41Z", Tags: []string{"gift", "priority"},
			Lines: []benchLine{{"SKU-1", "Widget", 2, 9.99}, {"SKU-2", "Gadget", 1, 24.5}, {"SKU-3", "Gizmo", 5, 1.25}}}
	}
	body, err := json.Marshal(map[string]any{"data": data, "page": 3, "total_pages": 4, "total_items": 200})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodeEnvelopeNested is the path extractor on records with
// nested lists, into structs and into maps: the records whose nested
// values the budget counts.
func BenchmarkDecodeEnvelopeNested(b *testing.B) {
	b.Run("struct", func(b *testing.B) { benchEnvelope[benchOrder](b, benchOrdersBody(b)) })
	b.Run("map", func(b *testing.B) { benchEnvelope[map[string]any](b, benchOrdersBody(b)) })
}

// benchEnvelope reads body, a page of 50 records, into records of type T
// with the path extractor.
func benchEnvelope[T any](b *testing.B, body []byte) {
	src, err := sourceSpec[T]{paths: [numSlots]string{"data", "total_items", "total_pages", "page", "", ""}}.compile()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		br := &bodyReader{rc: nopCloser{bytes.NewReader(body)}, max: DefaultMaxBody}
		r, err := src.readBody(br, 50, DefaultMaxItems)
		if err != nil || len(r.Items) != 50 || r.TotalPages != 4 {
			b.Fatal(err)
		}
	}
}
