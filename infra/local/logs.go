package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/uauth/uauth/pkg/metrics"
)

// logGroups stands in for the functions' CloudWatch log groups: each
// function's metrics (EMF) and audit lines go to <dir>/<function>.log, as
// Lambda would send them to CloudWatch Logs, and the metrics are summed
// for GET /_local/metrics, as CloudWatch would extract them.
type logGroups struct {
	dir  string
	mu   sync.Mutex
	sums map[string]map[string]map[string]float64 // function, metric, outcome ("" for none)
}

func newLogGroups(dir string) (*logGroups, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &logGroups{dir: dir, sums: map[string]map[string]map[string]float64{}}, nil
}

// group returns the writer of function's log group.
func (g *logGroups) group(function string) (io.Writer, error) {
	f, err := os.OpenFile(filepath.Join(g.dir, function+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &groupWriter{g: g, f: f}, nil
}

// groupWriter appends lines to a log group's file and sums the EMF ones.
// Each Write is one or more whole lines (package metrics and audit write a
// line at a time).
type groupWriter struct {
	g  *logGroups
	f  *os.File
	mu sync.Mutex
}

func (w *groupWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	n, err := w.f.Write(p)
	w.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(p))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		w.g.sum(sc.Bytes())
	}
	return n, err
}

// sum adds an EMF line's counters: each metric a directive names, under
// the value of its outcome dimension, if it has one.
func (g *logGroups) sum(line []byte) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(line, &doc) != nil || doc["_aws"] == nil {
		return
	}
	var aws struct {
		CloudWatchMetrics []struct {
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	}
	if json.Unmarshal(doc["_aws"], &aws) != nil {
		return
	}
	var function string
	_ = json.Unmarshal(doc[metrics.FunctionDimension], &function)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sums[function] == nil {
		g.sums[function] = map[string]map[string]float64{}
	}
	for _, d := range aws.CloudWatchMetrics {
		outcome := ""
		if len(d.Dimensions) > 0 && len(d.Dimensions[0]) > 1 {
			_ = json.Unmarshal(doc[d.Dimensions[0][1]], &outcome)
		}
		for _, m := range d.Metrics {
			if m.Unit != string(metrics.Count) {
				continue // latencies are CloudWatch's to aggregate
			}
			var v float64
			if json.Unmarshal(doc[m.Name], &v) != nil {
				continue
			}
			if g.sums[function][m.Name] == nil {
				g.sums[function][m.Name] = map[string]float64{}
			}
			g.sums[function][m.Name][outcome] += v
		}
	}
}

// ServeHTTP answers GET /_local/metrics: the counters summed, by function,
// metric and outcome ("" for a metric without one).
func (g *logGroups) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		localError(w, http.StatusMethodNotAllowed, "GET the metrics")
		return
	}
	g.mu.Lock()
	b, err := json.Marshal(g.sums)
	g.mu.Unlock()
	if err != nil {
		localError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// lockDataDir takes an exclusive lock on dir for the life of the process,
// so that a second make run on the same data says so at once, rather than
// DynamoDB Local failing a minute later on a database already open.
func lockDataDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "make-run.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("the data directory %s is in use by another make run: stop it, or give this one its own with DATA_DIR=.local-2 PORT=8081", dir)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
