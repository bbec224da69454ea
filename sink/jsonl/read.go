package jsonl

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
)

// Records returns the records of a JSON Lines stream, gzip-compressed or
// not, in order. After an error it yields the error once and stops.
func Records[T any](r io.Reader) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		br := bufio.NewReader(r)
		var in io.Reader = br
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				yield(zero, fmt.Errorf("jsonl: %w", err))
				return
			}
			defer zr.Close()
			in = zr
		}
		dec := json.NewDecoder(in)
		for n := 1; ; n++ {
			var v T
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(zero, fmt.Errorf("jsonl: record %d: %w", n, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// ReadFile returns every record of the JSON Lines file at path.
func ReadFile[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	defer f.Close()
	var out []T
	for v, err := range Records[T](f) {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
