package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/parquet"
	"github.com/pagekit/pagekit/sink/schema"
	pq "github.com/parquet-go/parquet-go"
)

// parquetPair returns the Parquet sink and the bare parquet-go writer,
// each into a new directory under prefix.
func parquetPair(ctx context.Context, m *schema.Mapping[mockapi.User], prefix string) (pageCommit, pageCommit, func(), error) {
	s, err := parquet.New(ctx, parquet.Dir(prefix+"-sink"), m, parquet.Config[mockapi.User]{})
	if err != nil {
		return nil, nil, nil, err
	}
	return s.Commit, parquetDriver(prefix + "-driver"), func() { s.Close() }, nil
}

// parquetRow is a USER row as the bare writer writes it, with the sink's
// two columns.
type parquetRow struct {
	ID        string    `parquet:"id,optional"`
	Name      string    `parquet:"name,optional"`
	Email     string    `parquet:"email,optional"`
	Address   string    `parquet:"address,optional"`
	Company   string    `parquet:"company,optional"`
	Job       string    `parquet:"job,optional"`
	CreatedAt time.Time `parquet:"createdAt,optional,timestamp(microsecond)"`
	UpdatedAt time.Time `parquet:"updatedAt,optional,timestamp(microsecond)"`
	Op        string    `parquet:"_pagekit_op"`
	Seq       int64     `parquet:"_pagekit_seq"`
}

// parquetDriver is the baseline: parquet-go's GenericWriter doing the
// sink's work with no schema, validation or conversion layer: a Snappy
// file a page, written under a temporary name, synced and renamed, then a
// JSON manifest listing the files and holding the checkpoint, written,
// synced, renamed, and the directory synced.
func parquetDriver(dir string) pageCommit {
	var files []string
	var seq int64
	rows := make([]parquetRow, 0, 500)
	return func(ctx context.Context, page []mockapi.User, cp paginate.Checkpoint) error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		seq++
		rows = rows[:0]
		for _, u := range page {
			rows = append(rows, parquetRow{u.ID, u.Name, u.Email, u.Address, u.Company, u.Job, u.CreatedAt, u.UpdatedAt, "upsert", seq})
		}
		name := fmt.Sprintf("%020d.parquet", seq)
		tmp := filepath.Join(dir, ".tmp-"+name)
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		w := pq.NewGenericWriter[parquetRow](f, pq.Compression(&pq.Snappy))
		if _, err := w.Write(rows); err != nil {
			f.Close()
			return err
		}
		if err := w.Close(); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		f.Close()
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return err
		}
		files = append(files, name)
		man, err := json.Marshal(map[string]any{"files": files, "checkpoint": cp})
		if err != nil {
			return err
		}
		mtmp := filepath.Join(dir, ".tmp-manifest")
		mf, err := os.Create(mtmp)
		if err != nil {
			return err
		}
		_, err = mf.Write(man)
		if err == nil {
			err = mf.Sync()
		}
		mf.Close()
		if err == nil {
			err = os.Rename(mtmp, filepath.Join(dir, "_manifest.json"))
		}
		if err != nil {
			return err
		}
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Sync()
	}
}
