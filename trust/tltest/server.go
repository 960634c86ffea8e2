package tltest

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
)

// Server serves files on loopback, and can change them between requests.
type Server struct {
	srv   *httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

// NewServer starts a server on an ephemeral loopback port, closed when the
// test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{files: map[string][]byte{}, hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		data, ok := s.files[r.URL.Path]
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Write(data)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// Put serves data at path ("/FR.xml").
func (s *Server) Put(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
}

// Get returns what is served at path.
func (s *Server) Get(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[path]
}

// Delete stops serving path (it answers 404).
func (s *Server) Delete(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.files, path)
}

// Hits returns how many requests path received.
func (s *Server) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// URL returns the address of path.
func (s *Server) URL(path string) string { return s.srv.URL + path }

// Client returns a client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server: every fetch then fails.
func (s *Server) Close() { s.srv.Close() }

// EU is a scheme for tests: a LOTL, signed by its own signer, pointing to
// national lists, each signed by a signer of its territory, all served on
// loopback at /lotl.xml and /TT.xml.
type EU struct {
	Server     *Server
	LOTLSigner *Signer
	// Signers and Lists are by territory.
	Signers map[string]*Signer
	Lists   map[string]*List
	// LOTL is the list of lists Publish last signed; tests may change its
	// fields (Sequence...) and call PublishLOTL.
	LOTL *List
}

// NewEU publishes the lists and a LOTL pointing to them.
func NewEU(t testing.TB, lists ...*List) *EU {
	t.Helper()
	e := &EU{
		Server:     NewServer(t),
		LOTLSigner: NewRSASigner(t, "LOTL signer"),
		Signers:    map[string]*Signer{},
		Lists:      map[string]*List{},
		LOTL:       &List{Territory: "EU"},
	}
	for _, l := range lists {
		e.Signers[l.Territory] = NewSigner(t, l.Territory+" trusted list signer")
		e.Publish(t, l)
	}
	e.PublishLOTL(t)
	return e
}

// Publish signs l with its territory's signer and serves it.
func (e *EU) Publish(t testing.TB, l *List) {
	t.Helper()
	e.Lists[l.Territory] = l
	e.Server.Put("/"+l.Territory+".xml", e.Signers[l.Territory].Sign(t, l.XML()))
}

// PublishLOTL rebuilds the LOTL's pointers (itself, then each national
// list in XML and in PDF, as the real one does), signs it and serves it.
func (e *EU) PublishLOTL(t testing.TB) {
	t.Helper()
	e.LOTL.Pointers = []Pointer{{Territory: "EU", Location: e.LOTLURL(), Signers: e.Pins(), LOTL: true}}
	territories := make([]string, 0, len(e.Lists))
	for tt := range e.Lists {
		territories = append(territories, tt)
	}
	sort.Strings(territories)
	for _, tt := range territories {
		signers := []*x509.Certificate{e.Signers[tt].Cert}
		e.LOTL.Pointers = append(e.LOTL.Pointers,
			Pointer{Territory: tt, Location: e.Server.URL("/" + tt + ".xml"), Signers: signers},
			Pointer{Territory: tt, Location: e.Server.URL("/" + tt + ".pdf"), Signers: signers, MimeType: TSLPDF})
	}
	e.Server.Put("/lotl.xml", e.LOTLSigner.Sign(t, e.LOTL.XML()))
}

// LOTLURL is where the LOTL is served.
func (e *EU) LOTLURL() string { return e.Server.URL("/lotl.xml") }

// Pins are the certificates allowed to sign the LOTL.
func (e *EU) Pins() []*x509.Certificate { return []*x509.Certificate{e.LOTLSigner.Cert} }

// Client returns a client for the server.
func (e *EU) Client() *http.Client { return e.Server.Client() }
