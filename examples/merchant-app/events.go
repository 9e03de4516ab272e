package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// hub fans the app's changes out to the pages that are open, as
// server-sent events: an order page shows the bank's notification the
// moment it arrives, without a reload. A page's script (static/app.js,
// served from the app's own origin as the CSP asks) listens on /events.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	userID string // whose changes it gets
	all    bool   // the admin page: everyone's
	ch     chan sse
}

// sse is one event: its name and its JSON data.
type sse struct {
	name   string
	userID string // whose change it is; "" for everyone's pages that show all
	data   []byte
}

func event(name, userID string, v any) (sse, error) {
	data, err := json.Marshal(v)
	return sse{name: name, userID: userID, data: data}, err
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

// publish sends an event to the pages of its user and to the admin page.
// A page too slow to take it misses it (its next load shows the state).
func (h *hub) publish(name, userID string, v any) {
	e, err := event(name, userID, v)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.all || (userID != "" && s.userID == userID) {
			select {
			case s.ch <- e:
			default:
			}
		}
	}
}

func (h *hub) subscribe(userID string, all bool) *subscriber {
	s := &subscriber{userID: userID, all: all, ch: make(chan sse, 32)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// serve streams events to one page until it goes away or the app stops
// (the request's context comes from the server's base context, which
// closing the app cancels). It starts with what now gives — the present
// state of what the page shows, taken after subscribing — so that a
// change made between the page's render and its subscription is not
// lost.
func (h *hub) serve(w http.ResponseWriter, r *http.Request, userID string, all bool, now func() []sse) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	s := h.subscribe(userID, all)
	defer h.unsubscribe(s)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	// A comment opens the stream at once, so that the page knows it is
	// listening (app.js marks <body data-listening>).
	if _, err := fmt.Fprint(w, ": listening\nretry: 2000\n\n"); err != nil {
		return
	}
	for _, e := range now() {
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data); err != nil {
			return
		}
	}
	flusher.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case e := <-s.ch:
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data); err != nil {
				return
			}
		}
		flusher.Flush()
	}
}
