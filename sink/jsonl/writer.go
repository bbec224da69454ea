package jsonl

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
)

// Config configures a [Writer] or a [File]. The zero value writes plain
// JSON Lines.
type Config struct {
	// Gzip compresses the output, one gzip member a page.
	Gzip bool
	// Level is the gzip compression level, from gzip.BestSpeed to
	// gzip.BestCompression. Zero means gzip.DefaultCompression.
	Level int
}

// encoder turns pages into bytes: one line per record, each page a gzip
// member when asked.
type encoder[T any] struct {
	cfg  Config
	buf  bytes.Buffer
	page bytes.Buffer // the page's lines before compression
	zw   *gzip.Writer
}

// encode returns the bytes of a page, valid until the next call.
func (e *encoder[T]) encode(items []T) ([]byte, error) {
	e.buf.Reset()
	e.page.Reset()
	if len(items) == 0 {
		return nil, nil
	}
	enc := json.NewEncoder(&e.page)
	enc.SetEscapeHTML(false)
	for i := range items {
		if err := enc.Encode(&items[i]); err != nil {
			return nil, fmt.Errorf("jsonl: record %d: %w", i, err)
		}
	}
	if !e.cfg.Gzip {
		return e.page.Bytes(), nil
	}
	if e.zw == nil {
		level := e.cfg.Level
		if level == 0 {
			level = gzip.DefaultCompression
		}
		zw, err := gzip.NewWriterLevel(&e.buf, level)
		if err != nil {
			return nil, fmt.Errorf("jsonl: %w", err)
		}
		e.zw = zw
	} else {
		e.zw.Reset(&e.buf)
	}
	if _, err := e.zw.Write(e.page.Bytes()); err != nil {
		return nil, fmt.Errorf("jsonl: gzip: %w", err)
	}
	if err := e.zw.Close(); err != nil {
		return nil, fmt.Errorf("jsonl: gzip: %w", err)
	}
	return e.buf.Bytes(), nil
}

// A Flusher is a writer that buffers what it is given until Flush, such as
// a *bufio.Writer. Flusher may be implemented by the io.Writer of a
// [Writer], which calls Flush after each page.
type Flusher interface {
	Flush() error
}

// A Syncer is a writer whose writes reach stable storage on Sync, such as
// an *os.File. Syncer may be implemented by the io.Writer of a [Writer],
// which calls Sync after each page (and after Flush), so that the page is
// durable before its checkpoint is saved.
type Syncer interface {
	Sync() error
}

// Writer writes pages of records of type T to an io.Writer as JSON Lines.
// It is a [paginate.Sink]. It is safe for concurrent use.
type Writer[T any] struct {
	mu  sync.Mutex
	w   io.Writer
	enc encoder[T]
}

// New returns a Writer that writes to w.
func New[T any](w io.Writer, cfg Config) *Writer[T] {
	return &Writer[T]{w: w, enc: encoder[T]{cfg: cfg}}
}

// Write writes one line per record of items, then, so that the page is
// durable before its checkpoint is saved, flushes the writer when it is a
// [Flusher] and syncs it when it is a [Syncer].
func (w *Writer[T]) Write(_ context.Context, items []T) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, err := w.enc.encode(items)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("jsonl: write: %w", err)
	}
	if f, ok := w.w.(Flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("jsonl: flush: %w", err)
		}
	}
	if s, ok := w.w.(Syncer); ok {
		// A pipe, a terminal or /dev/null cannot be synced and says EINVAL:
		// there is nothing to make durable, so that is not a failure.
		if err := s.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
			return fmt.Errorf("jsonl: sync: %w", err)
		}
	}
	return nil
}
