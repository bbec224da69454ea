package spec

import (
	"context"
	"fmt"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// Probe is what the first page of a stream says: how many records it
// holds, and the table they make.
type Probe struct {
	// Stream is the stream's name.
	Stream string
	// Records is the number of records of the first page, and TotalItems
	// the server's total, zero when it gives none.
	Records    int
	TotalItems int64
	// Parent is the key of the parent record whose partition was
	// fetched, for a child stream.
	Parent string
	// Table is the stream's table: the declared columns and those the
	// first page's records make.
	Table schema.Table
	// Warnings say what in the spec the first page suggests is not what
	// was meant, such as a total_items_path it did not have, each with
	// the file, line and column.
	Warnings []string
}

// Probe checks the stream name's configuration and fetches its first
// page (for a child stream, the first page of the first parent's
// partition that has one), without writing anything.
func (s *Spec) Probe(ctx context.Context, name string) (*Probe, error) {
	st := s.Stream(name)
	if st == nil {
		return nil, fmt.Errorf("spec: no stream is named %q", name)
	}
	c, err := s.compile(st, nil)
	if err != nil {
		return nil, err
	}
	pr := &Probe{Stream: name}
	var page paginate.Page[Record]
	if st.Parent == nil {
		page, err = first(ctx, c, nil)
	} else {
		page, pr.Parent, err = s.firstChild(ctx, st, c)
	}
	if err != nil {
		return nil, s.firstPageError(st, err)
	}
	if pr.Warnings, err = s.checkPage(st, page); err != nil {
		return nil, err
	}
	pr.Records, pr.TotalItems = len(page.Items), page.TotalItems
	tbl, err := st.table()
	if err != nil {
		return nil, err
	}
	dyn, err := schema.NewDynamic(tbl)
	if err != nil {
		return nil, fmt.Errorf("spec: stream %q: %w", name, err)
	}
	if _, err := dyn.Grow(page.Items); err != nil {
		return nil, fmt.Errorf("spec: stream %q: %w", name, err)
	}
	if _, err := dyn.Mapping().Rows(page.Items, nil); err != nil {
		return nil, fmt.Errorf("spec: stream %q: %w", name, err)
	}
	pr.Table = dyn.Table()
	return pr, nil
}

// first fetches the first page of the paginator of c with pathValues.
func first(ctx context.Context, c *compiled, pathValues map[string]string) (paginate.Page[Record], error) {
	p, err := c.paginator(pathValues)
	if err != nil {
		return paginate.Page[Record]{}, err
	}
	if v, ok := p.(paginate.Validator); ok {
		if err := v.Validate(); err != nil {
			return paginate.Page[Record]{}, fmt.Errorf("stream %q: %w", c.st.Name, err)
		}
	}
	page, err := p.Fetch(ctx, paginate.Position{})
	if err != nil {
		return page, fmt.Errorf("stream %q: the first page: %w", c.st.Name, err)
	}
	return page, nil
}

// firstChild fetches the first page of a child stream: that of the first
// parent, among the parent stream's first page, whose partition has
// records (or of the last one tried).
func (s *Spec) firstChild(ctx context.Context, st *Stream, c *compiled) (paginate.Page[Record], string, error) {
	pst := s.Stream(st.Parent.Stream)
	pc, err := s.compile(pst, nil)
	if err != nil {
		return paginate.Page[Record]{}, "", err
	}
	parents, err := first(ctx, pc, nil)
	if err != nil {
		return paginate.Page[Record]{}, "", err
	}
	if len(parents.Items) == 0 {
		return paginate.Page[Record]{}, "", fmt.Errorf("stream %q: the parent stream %q has no records to fetch a partition of", st.Name, pst.Name)
	}
	of := (&Build{spec: s, comp: map[string]*compiled{st.Name: c}}).childOf(st, nil)
	var page paginate.Page[Record]
	var key string
	for i, parent := range parents.Items {
		if i == 5 {
			break
		}
		key = of.Key(parent)
		p, err := of.Paginator(parent)
		if err != nil {
			return page, key, fmt.Errorf("stream %q, partition %q: %w", st.Name, key, err)
		}
		if page, err = p.Fetch(ctx, paginate.Position{}); err != nil {
			return page, key, fmt.Errorf("stream %q, partition %q: the first page: %w", st.Name, key, err)
		}
		if len(page.Items) > 0 {
			break
		}
	}
	return page, key, nil
}
