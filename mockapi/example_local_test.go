package mockapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pagekit/pagekit/mockapi"
)

// Start serves the mock API inside the program, on a free port of
// 127.0.0.1, as the example connectors do when they are given no -url.
func ExampleStart() {
	srv, err := mockapi.Start(mockapi.Config{Records: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	resp, err := http.Get(srv.URL + mockapi.PathJSONServerV1 + "?_page=9&_per_page=2")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	head, _, _ := strings.Cut(string(body), `"data"`)
	fmt.Println(srv.Len(), "records; page 9 of 2 is clamped to 2:", head)
	// Output: 3 records; page 9 of 2 is clamped to 2: {"first":1,"prev":1,"next":null,"last":2,"pages":2,"items":3,
}
