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
	body := benchBody(b)
	src, err := sourceSpec[benchUser]{paths: [numSlots]string{"data", "total_items", "total_pages", "page", "", ""}}.compile()
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

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
