package jsonl_test

import (
	"context"
	"fmt"
	"os"

	"github.com/pagekit/pagekit/sink/jsonl"
)

func ExampleNew() {
	type Event struct {
		ID   int    `json:"id"`
		Kind string `json:"kind"`
	}
	w := jsonl.New[Event](os.Stdout, jsonl.Config{})
	w.Write(context.Background(), []Event{{1, "created"}, {2, "deleted"}})
	// Output:
	// {"id":1,"kind":"created"}
	// {"id":2,"kind":"deleted"}
}

func ExampleOpen() {
	type Event struct {
		ID int `json:"id"`
	}
	dir, _ := os.MkdirTemp("", "jsonl")
	defer os.RemoveAll(dir)
	path := dir + "/events.jsonl"

	f, err := jsonl.Open[Event](path, jsonl.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	// paginate.Run(ctx, api, f, paginate.Options[Event]{Stream: "events"})
	// commits each page and its checkpoint through f.
	f.Write(context.Background(), []Event{{1}, {2}})
	events, _ := jsonl.ReadFile[Event](path)
	fmt.Println(events)
	// Output: [{1} {2}]
}
