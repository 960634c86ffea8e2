package ca

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The server's Prometheus metrics, in a registry of the Authority's own
// (no global state), served by AdminHandler at /metrics. Their labels take
// few values: the route as the mux names it, the HTTP status, the
// protocol's error codes, OCSP statuses.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // by route and status
	latency  *prometheus.HistogramVec // by route
	inFlight prometheus.Gauge
	issued   *prometheus.CounterVec // enrolment, renewal
	ocsp     *prometheus.CounterVec // by status and whether from the cache
	tsa      *prometheus.CounterVec // granted, rejected
	failures *prometheus.CounterVec // by the protocol's error code
}

func newMetrics(a *Authority) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paraphe_ca_http_requests_total", Help: "HTTP requests answered, by route and status.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "paraphe_ca_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "paraphe_ca_http_requests_in_flight", Help: "HTTP requests being answered.",
		}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paraphe_ca_certificates_issued_total",
			Help: "Certificates sent to holders, by kind (enrolment, renewal); a request repeated gets the same certificate again.",
		}, []string{"kind"}),
		ocsp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paraphe_ca_ocsp_responses_total",
			Help: "OCSP answers, by status (good, revoked, unknown, malformed, internal_error) and source (cache, signed, none).",
		}, []string{"status", "source"}),
		tsa: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paraphe_ca_timestamps_total", Help: "Time-stamp requests answered, by status (granted, rejected).",
		}, []string{"status"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paraphe_ca_failures_total", Help: "Requests refused or failed, by the protocol's error code.",
		}, []string{"code"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.issued, m.ocsp, m.tsa, m.failures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "paraphe_ca_answer_checks_total", Help: "Answers to secret questions checked (Argon2id).",
		}, func() float64 { return float64(a.answerChecks.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "paraphe_ca_answer_slots_busy", Help: "Hashing slots checking answers now (one per CPU).",
		}, func() float64 { running, _, _ := a.answers.stats(); return float64(running) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "paraphe_ca_answer_queue_waiting", Help: "Answer requests (and officers' logins) waiting for a hashing slot.",
		}, func() float64 { _, waiting, _ := a.answers.stats(); return float64(waiting) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "paraphe_ca_answer_queue_peak", Help: "The most answer requests (and officers' logins) that have waited for a hashing slot at once since the start.",
		}, func() float64 { _, _, peak := a.answers.stats(); return float64(peak) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "paraphe_ca_answer_queue_limit", Help: "Answer requests that may wait for a hashing slot; those beyond are refused with 503 (failures code busy).",
		}, func() float64 { return float64(a.answerDepth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "paraphe_ca_ocsp_cache_answers", Help: "Signed OCSP answers kept to be served again.",
		}, func() float64 { return float64(a.ocspCache.len()) }),
	)
	return m
}

// observe counts a request of h's in the metrics.
func (m *metrics) observe(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		h.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux
		switch {
		case route == "" && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, pathOCSP+"/"): // ocspGET's
			route = "GET " + pathOCSP + "/{request}"
		case route == "":
			route = "other"
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// handler serves the metrics in Prometheus' text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
