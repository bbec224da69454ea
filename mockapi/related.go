package mockapi

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The related resources: orders per user, and an event log. They are
// derived from the users dataset and the Seed, so that they are as
// reproducible as the users are, and they go through the same faults.
const (
	// PathOrdersPrefix and PathOrdersSuffix frame a user's orders:
	// /users/{id}/orders.
	PathOrdersPrefix = "/users/"
	PathOrdersSuffix = "/orders"
	// PathEvents is the event log.
	PathEvents = "/events"
)

// OrdersPath returns the path of the orders of the user with this id.
func OrdersPath(userID string) string {
	return PathOrdersPrefix + userID + PathOrdersSuffix
}

// Order is one order of a user, as /users/{id}/orders serves it.
type Order struct {
	ID     string `json:"id"`
	UserID string `json:"userId"`
	Status string `json:"status"`
	// Amount is in cents of Currency.
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// CreatedAt and UpdatedAt are whole seconds in UTC.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Event is one entry of the event log, as /events serves it.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
}

const (
	saltOrders = 0x6f72646572730001 // "orders"
	saltEvents = 0x6576656e74730001 // "events"
)

var (
	orderStatuses = []string{"pending", "paid", "shipped", "delivered", "refunded"}
	currencies    = []string{"EUR", "USD", "GBP"}
	eventTypes    = []string{"login", "logout", "purchase", "refund", "profile.update", "password.reset"}
)

// relatedRoute returns the handler of a related resource's path.
func relatedRoute(path string) (handler, bool) {
	if path == PathEvents {
		return events, true
	}
	if id, ok := strings.CutPrefix(path, PathOrdersPrefix); ok {
		if id, ok = strings.CutSuffix(id, PathOrdersSuffix); ok && id != "" && !strings.Contains(id, "/") {
			return orders, true
		}
	}
	return nil, false
}

// orderRec is an order before encoding.
type orderRec struct {
	id               [16]byte
	created, updated int64
	status, currency int
	amount           int64
}

// orderCount returns how many orders the user with this id has: exactly
// Config.OrdersPerUser when it is set; otherwise a quarter have none, most
// have 1 to 30, one in twelve 31 to 150, and one in fifty 151 to 500, which
// takes 4 to 10 pages of 50.
func (c Config) orderCount(id [16]byte) int {
	if c.OrdersPerUser > 0 {
		return c.OrdersPerUser
	}
	if c.OrdersPerUser < 0 {
		return 0
	}
	var r rand.PCG
	r.Seed(c.Seed^saltOrders, binary.BigEndian.Uint64(id[:8]))
	switch u := unit(&r); {
	case u < 0.25:
		return 0
	case u < 0.90:
		return 1 + pick(&r, 30)
	case u < 0.98:
		return 31 + pick(&r, 120)
	default:
		return 151 + pick(&r, 350)
	}
}

// orderAt returns order i of the n orders of the user whose record is r.
// Order i is a function of the Seed, the user's id and i alone, and its
// updatedAt falls in the i-th of n equal slices of the time from the
// user's creation to the end of the dataset's span (at least an hour
// each), so that the orders are in ascending (updatedAt, id) order by
// construction and a page costs time in its size, not in the number of
// the user's orders. An order is created up to 30 days before its update,
// and not before the user.
func (c Config) orderAt(r *rec, i, n int) orderRec {
	var src rand.PCG
	src.Seed(c.Seed^saltOrders^binary.BigEndian.Uint64(r.id[8:]), uint64(i))
	rng := rand.New(&src)
	span := max(spanEnd-r.created, int64(n)*3600)
	step := float64(span) / float64(n)
	o := orderRec{id: newID(rng)}
	o.updated = r.created + int64(float64(i)*step) + rng.Int64N(int64(step))
	o.created = max(r.created, o.updated-rng.Int64N(30*24*60*60))
	o.status = rng.IntN(len(orderStatuses))
	o.currency = rng.IntN(len(currencies))
	o.amount = 100 + rng.Int64N(100_000)
	return o
}

// ordersFrom returns the index of the user's first order updated at or
// after since.
func (c Config) ordersFrom(r *rec, n int, since int64) int {
	return sort.Search(n, func(i int) bool { return c.orderAt(r, i, n).updated >= since })
}

func appendOrder(b []byte, o *orderRec, user [16]byte) []byte {
	b = append(b, `{"id":"`...)
	b = appendUUID(b, o.id)
	b = append(b, `","userId":"`...)
	b = appendUUID(b, user)
	b = append(b, `","status":"`...)
	b = append(b, orderStatuses[o.status]...)
	b = append(b, `","amount":`...)
	b = strconv.AppendInt(b, o.amount, 10)
	b = append(b, `,"currency":"`...)
	b = append(b, currencies[o.currency]...)
	b = append(b, `","createdAt":"`...)
	b = appendTime(b, o.created)
	b = append(b, `","updatedAt":"`...)
	b = appendTime(b, o.updated)
	return append(b, `"}`...)
}

func (o *orderRec) order(user [16]byte) Order {
	return Order{
		ID:        string(appendUUID(nil, o.id)),
		UserID:    string(appendUUID(nil, user)),
		Status:    orderStatuses[o.status],
		Amount:    o.amount,
		Currency:  currencies[o.currency],
		CreatedAt: time.Unix(o.created, 0).UTC(),
		UpdatedAt: time.Unix(o.updated, 0).UTC(),
	}
}

// orders serves /users/{id}/orders: page-number paging over the user's
// orders in ascending (updatedAt, id), with per_page, page and
// updated_since as on /pagination/page_number, and the same body.
func orders(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	raw := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, PathOrdersPrefix), PathOrdersSuffix)
	p, err := parseParams(r.URL, "per_page", "page", "updated_since")
	if err != nil {
		return b, err
	}
	q, err := p.list("per_page", "page", s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	id, ok := parseUUID(raw)
	if !ok {
		return b, notFound("No such user: " + raw)
	}
	s.mu.RLock()
	i, found := s.data.find(id)
	var rc rec
	if found {
		rc = s.data.recs[i]
	}
	s.mu.RUnlock()
	if !found {
		return b, notFound("No such user: " + raw)
	}
	size := s.pageSize(q.size)
	n := s.cfg.orderCount(rc.id)
	lo := s.cfg.ordersFrom(&rc, n, q.since)
	total := n - lo
	off := pageOffset(q.start, size, total)
	b = append(b, `{"data":[`...)
	for k := off; k < min(total, off+size); k++ {
		if k > off {
			b = append(b, ',')
		}
		o := s.cfg.orderAt(&rc, lo+k, n)
		b = appendOrder(b, &o, rc.id)
	}
	b = append(b, `],"page":`...)
	b = strconv.AppendInt(b, int64(q.start), 10)
	b = append(b, `,"page_size":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, `,"total_pages":`...)
	b = strconv.AppendInt(b, int64(totalPages(total, size)), 10)
	b = append(b, `,"total_items":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	return append(b, "}\n"...), nil
}

// Orders returns the orders of the user with this id, in ascending
// (updatedAt, id) order, and whether there is such a user.
func (s *Server) Orders(userID string) ([]Order, bool) {
	id, ok := parseUUID(userID)
	if !ok {
		return nil, false
	}
	s.mu.RLock()
	i, found := s.data.find(id)
	var rc rec
	if found {
		rc = s.data.recs[i]
	}
	s.mu.RUnlock()
	if !found {
		return nil, false
	}
	n := s.cfg.orderCount(rc.id)
	out := make([]Order, n)
	for i := range out {
		o := s.cfg.orderAt(&rc, i, n)
		out[i] = o.order(rc.id)
	}
	return out, true
}

// The event log: Config.Events events (as many as the initial records by
// default), in ascending (createdAt, id) order, spread evenly over the
// dataset's three years. Event k is a function of the Seed and k alone, so
// the log costs no memory.

func (c Config) events() int {
	switch {
	case c.Events < 0:
		return 0
	case c.Events == 0:
		return c.records()
	}
	return c.Events
}

// eventAt returns the creation time of event k of n: strictly increasing
// in k, so that the log is sorted by construction.
func eventAt(k, n int) int64 {
	step := float64(spanEnd-spanStart) / float64(n)
	return spanStart + int64(float64(k)*step)
}

// eventRec is an event before encoding.
type eventRec struct {
	id, user [16]byte
	typ      int
	created  int64
}

// event returns event k of n. users are the user records events refer to.
func (c Config) event(k, n int, users []rec) eventRec {
	var r rand.PCG
	r.Seed(c.Seed^saltEvents, uint64(k))
	rng := rand.New(&r)
	e := eventRec{id: newID(rng), typ: rng.IntN(len(eventTypes)), created: eventAt(k, n)}
	if len(users) > 0 {
		e.user = users[rng.IntN(len(users))].id
	}
	return e
}

func appendEvent(b []byte, e *eventRec) []byte {
	b = append(b, `{"id":"`...)
	b = appendUUID(b, e.id)
	b = append(b, `","type":"`...)
	b = append(b, eventTypes[e.typ]...)
	b = append(b, `","userId":"`...)
	b = appendUUID(b, e.user)
	b = append(b, `","createdAt":"`...)
	b = appendTime(b, e.created)
	return append(b, `"}`...)
}

// eventUsers returns the user records events refer to: the initial ones,
// so that the log does not change when users are inserted. The Server's
// read lock must be held.
func (s *Server) eventUsers() []rec {
	return s.data.recs[:min(len(s.data.recs), s.cfg.records())]
}

// events serves /events: next-token paging over the event log, with limit
// (10), next_token and created_since (inclusive, YYYY-MM-DDTHH:MM:SSZ);
// the body is {data, next_token}, next_token null on the last page. A
// token that does not decode: 400.
func events(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "limit", "next_token", "created_since")
	if err != nil {
		return b, err
	}
	limit, err := p.int("limit", 10, 1, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	n := s.cfg.events()
	start := 0
	if p.has("created_since") {
		t, ok := parseTime(p.q.Get("created_since"))
		if !ok {
			return b, badRequest("Invalid created_since: must look like YYYY-MM-DDTHH:MM:SSZ")
		}
		start = sort.Search(n, func(k int) bool { return eventAt(k, n) >= t })
	}
	if p.has("next_token") {
		raw, err := base64.RawURLEncoding.DecodeString(p.q.Get("next_token"))
		if err != nil || len(raw) != 8 || binary.BigEndian.Uint64(raw) > math.MaxInt32 {
			return b, badRequest("Invalid next_token")
		}
		start = max(start, int(binary.BigEndian.Uint64(raw)))
	}
	size := s.pageSize(limit)
	s.mu.RLock()
	users := s.eventUsers()
	end := min(n, start+size)
	b = append(b, `{"data":[`...)
	for k := start; k < end; k++ {
		if k > start {
			b = append(b, ',')
		}
		e := s.cfg.event(k, n, users)
		b = appendEvent(b, &e)
	}
	s.mu.RUnlock()
	b = append(b, `],"next_token":`...)
	if end < n {
		var raw [8]byte
		binary.BigEndian.PutUint64(raw[:], uint64(end))
		b = append(b, '"')
		b = base64.RawURLEncoding.AppendEncode(b, raw[:])
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	return append(b, "}\n"...), nil
}

// Events returns the whole event log, in ascending (createdAt, id) order.
func (s *Server) Events() []Event {
	n := s.cfg.events()
	out := make([]Event, n)
	s.mu.RLock()
	defer s.mu.RUnlock()
	users := s.eventUsers()
	for k := range out {
		e := s.cfg.event(k, n, users)
		out[k] = Event{
			ID:        string(appendUUID(nil, e.id)),
			Type:      eventTypes[e.typ],
			UserID:    string(appendUUID(nil, e.user)),
			CreatedAt: time.Unix(e.created, 0).UTC(),
		}
	}
	return out
}
