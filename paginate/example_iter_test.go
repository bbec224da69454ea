package paginate_test

import (
	"context"
	"fmt"

	"github.com/pagekit/pagekit/paginate"
)

// Iterate gives the for-range loop of All and keeps the run's Result for
// after the loop: why it stopped, what it read, where a next run starts.
func ExampleIterate() {
	it := paginate.Iterate(context.Background(), numbers(8), paginate.Options[int]{})
	var sum int
	for n, err := range it.All() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		sum += n
	}
	fmt.Println("sum:", sum)
	res := it.Result()
	fmt.Printf("%d items in %d pages of %d, stop: %v\n", res.Items, res.Pages, res.TotalItems, res.Stop)
	// Output:
	// sum: 36
	// 8 items in 3 pages of 8, stop: last page
}

// A loop left early ends the run with Stop StopNone; the Result counts the
// pages the body finished, and with a Store the checkpoint points at the
// page it was reading, so that the next run delivers it again.
func ExampleIterator_Result_break() {
	store := new(paginate.MemoryStore)
	it := paginate.Iterate(context.Background(), numbers(8), paginate.Options[int]{Stream: "numbers", Store: store})
	for n, err := range it.All() {
		if err != nil || n == 5 {
			break
		}
	}
	res := it.Result()
	fmt.Println("stop:", res.Stop, "- pages done:", res.Pages, "- next run starts at:", res.Checkpoint.Position)
	// Output: stop: loop left - pages done: 1 - next run starts at: offset 3
}
