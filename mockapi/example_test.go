package mockapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/pagekit/pagekit/mockapi"
)

// The seed's page-number endpoint, served by an httptest server.
func Example() {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 5, Seed: 1}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/pagination/page_number?order_by=updatedAt&order_type=asc&per_page=2&page=3")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var page struct {
		Data       []mockapi.User `json:"data"`
		Page       int            `json:"page"`
		PageSize   int            `json:"page_size"`
		TotalPages int            `json:"total_pages"`
		TotalItems int            `json:"total_items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		panic(err)
	}
	fmt.Printf("page %d of %d, %d of %d records\n", page.Page, page.TotalPages, len(page.Data), page.TotalItems)
	u := page.Data[0]
	fmt.Printf("%s\n%s <%s>\n%s\n%s, %s\nupdated %s\n", u.ID, u.Name, u.Email, u.Address, u.Job, u.Company, u.UpdatedAt.Format("2006-01-02T15:04:05Z07:00"))
	// Output:
	// page 3 of 3, 1 of 5 records
	// 3b6fcfa1-f142-4bdb-8ec6-5fa497d52ef3
	// Gregory Green <gregory.green@example.com>
	// 94019 River Place Apt. 81
	// Auburn, RI 06322
	// Environmental consultant, Collins-Sanders
	// updated 2023-06-03T03:44:05Z
}

// An incremental sync after updates: asking for records updated since the
// last high-water mark, inclusive, returns the records at the mark and the
// updated ones.
func ExampleServer_Update() {
	s := mockapi.New(mockapi.Config{Seed: 1})
	all := s.Records()
	mark := all[len(all)-1].UpdatedAt.Format("2006-01-02T15:04:05Z")

	for _, u := range s.Update(2) {
		fmt.Println("updated", u.ID, "at", u.UpdatedAt.Format("2006-01-02T15:04:05Z"))
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/pagination/offset?limit=50&updated_since="+mark, nil))
	var page struct {
		Data []mockapi.User `json:"data"`
	}
	json.NewDecoder(w.Body).Decode(&page)
	for _, u := range page.Data {
		fmt.Println("since", mark+":", u.ID)
	}
	// Output:
	// updated 514cb07f-6986-4bc4-bc65-8ff99002101e at 2024-11-30T19:44:30Z
	// updated 7c5277fe-28d6-468d-821d-68b8d1264c34 at 2024-11-30T19:44:30Z
	// since 2024-11-30T19:44:29Z: 11a9f5db-91f2-46a4-88cd-2efe54ba0637
	// since 2024-11-30T19:44:29Z: 514cb07f-6986-4bc4-bc65-8ff99002101e
	// since 2024-11-30T19:44:29Z: 7c5277fe-28d6-468d-821d-68b8d1264c34
}

// Faults are drawn per request from the Seed, so a run is reproducible.
func ExampleConfig_faults() {
	s := mockapi.New(mockapi.Config{Seed: 3, ErrorRate: 0.2, ThrottleRate: 0.1, ThrottleBurst: 3})
	var codes []int
	for range 16 {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", "/pagination/keyset", nil))
		io.Copy(io.Discard, w.Body)
		codes = append(codes, w.Code)
	}
	fmt.Println(codes)
	fmt.Printf("%+v\n", s.Stats())
	// Output:
	// [200 200 200 200 500 429 429 429 502 200 200 200 200 200 200 200]
	// {Requests:16 OK:11 BadRequests:0 Errors:2 Throttled:3 Dropped:0 Slowed:0 Capped:0 Updated:0 Inserted:0}
}
