package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/bot/store"
	"github.com/apiorint/apiorint/knowledge/synthetic"
)

// A result is what one measurement saw.
type result struct {
	requests, failures int
	took               time.Duration
	latencies          []time.Duration // sorted
}

func (r result) rps() float64 { return float64(r.requests) / r.took.Seconds() }

func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
}

func (r result) String() string {
	if len(r.latencies) == 0 {
		return "no requests completed"
	}
	return fmt.Sprintf("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (%d requests, %d failed)",
		r.rps(), ms(r.percentile(0.50)), ms(r.percentile(0.99)), ms(r.latencies[len(r.latencies)-1]), r.requests, r.failures)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// load sends signed slash commands to base/slack/commands from clients goroutines for d,
// each with the next of qs, and measures.
func load(ctx context.Context, base, secret string, clients int, d time.Duration, qs []string) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: 10 * time.Second}
	var (
		next     atomic.Int64
		failures atomic.Int64
		mu       sync.Mutex
		all      []time.Duration
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				q := qs[int(next.Add(1))%len(qs)]
				body := []byte(url.Values{"command": {"/apiorint"}, "text": {q}, "user_id": {"U1"}, "channel_id": {"C1"},
					"team_id": {"T0FAKE"}, "response_url": {base + "/nowhere"}, "trigger_id": {"1.2"}}.Encode())
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/slack/commands", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				fakeslack.SignRequest(req, secret, body)
				t := time.Now()
				res, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mine = append(mine, time.Since(t))
				if err != nil || res.StatusCode != http.StatusOK {
					failures.Add(1)
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	return result{requests: len(all), failures: int(failures.Load()), took: time.Since(start), latencies: all}
}

// serveNoop serves a handler that reads the request and answers {}: what the bot's
// throughput is compared with.
func serveNoop(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	})}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func generate(dir string, n int, stdout io.Writer) error {
	if err := synthetic.WriteDir(dir, synthetic.Generate(1, n)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d sections to %s\n", n, dir)
	return nil
}

// measureRunning loads a bot someone else runs.
func measureRunning(ctx context.Context, o options, stdout io.Writer) error {
	qs := questions(5000, 1)
	fmt.Fprintf(stdout, "bot at %s, %d clients, %v, %d distinct questions\n", o.url, o.clients, o.duration, len(qs))
	r := load(ctx, strings.TrimRight(o.url, "/"), o.secret, o.clients, o.duration, qs)
	fmt.Fprintf(stdout, "bot   %s\n", r)
	return nil
}

// A process is a program this tool started.
type process struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	out  *bytes.Buffer
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs name with args and env on a free loopback address (LISTEN_ADDR, and "{addr}"
// in args), and waits until GET base+path answers 200.
func start(ctx context.Context, name string, args, env []string, path string) (*process, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	p := &process{base: "http://" + addr, out: &bytes.Buffer{}}
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "{addr}", addr)
	}
	p.cmd = exec.CommandContext(ctx, name, args...)
	p.cmd.Env = append(os.Environ(), append(env, "LISTEN_ADDR="+addr)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	began := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, 0, err
	}
	for {
		res, err := http.Get(p.base + path)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, time.Since(began), nil
			}
		}
		if time.Since(began) > 60*time.Second || p.cmd.ProcessState != nil {
			p.cmd.Process.Kill()
			return nil, 0, fmt.Errorf("%s never became healthy:\n%s", name, p.out)
		}
		time.Sleep(time.Millisecond)
	}
}

// peakRSS reads the process's high-water mark of resident memory, in bytes.
func (p *process) peakRSS() int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// kill ends the process at once unless it has already ended (after stop, say).
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// stop sends SIGTERM and returns the exit status.
func (p *process) stop() (int, error) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	err := p.cmd.Wait()
	if p.cmd.ProcessState == nil {
		return -1, err
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// spawnAndMeasure runs the whole measurement: baseline, start-up, throughput and latency,
// burst, memory, shutdown.
func spawnAndMeasure(ctx context.Context, o options, stdout io.Writer) error {
	bin, err := filepath.Abs(o.spawn)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	qs := questions(5000, 1)
	fmt.Fprintf(stdout, "%d clients, %v each, %d distinct questions\n", o.clients, o.duration, len(qs))

	noop, _, err := start(ctx, self, []string{"-serve-noop", "{addr}"}, nil, "/")
	if err != nil {
		return err
	}
	defer noop.kill()

	fake := fakeslack.New()
	defer fake.Close()
	secret := "load-test-secret"
	records, err := os.MkdirTemp("", "apiorint-load-records-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(records)
	env := []string{"SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_SIGNING_SECRET=" + secret, "SLACK_API_URL=" + fake.APIURL,
		"SLACK_APP_TOKEN=", "REDIS_URL=", "LOG_LEVEL=warn", "KNOWLEDGE_DIR=" + o.knowledgeDir, "INDEX_PATH=" + o.indexDir}
	bot, startup, err := start(ctx, bin, []string{"serve"}, append(env, "DATABASE_URL="+"sqlite:"+filepath.Join(records, "records.db")), "/healthz")
	if err != nil {
		return err
	}
	defer bot.kill() // when something below fails; stopped properly otherwise
	fmt.Fprintf(stdout, "start-up to a healthy /healthz (recording on, SQLite): %.0f ms\n", ms(startup))
	unrecorded, _, err := start(ctx, bin, []string{"serve"}, append(env, "DATABASE_URL=off"), "/healthz")
	if err != nil {
		return err
	}
	defer unrecorded.kill()

	// The no-op handler and the bots take turns, so that all see the same machine: what
	// else runs on it changes from second to second.
	ratios := map[string][]float64{}
	worst := map[string]result{}
	for round := range o.rounds {
		base := load(ctx, noop.base, "x", o.clients, o.duration, qs)
		fmt.Fprintf(stdout, "round %d  no-op         %s\n", round+1, base)
		for _, b := range []struct {
			name string
			p    *process
		}{{"recording off", unrecorded}, {"recording on", bot}} {
			r := load(ctx, b.p.base, secret, o.clients, o.duration, qs)
			ratios[b.name] = append(ratios[b.name], r.rps()/base.rps())
			fmt.Fprintf(stdout, "         %-13s %s\n", b.name, r)
			if w, ok := worst[b.name]; !ok || r.percentile(0.99) > w.percentile(0.99) {
				worst[b.name] = r
			}
		}
	}
	for _, name := range []string{"recording off", "recording on"} {
		rs := ratios[name]
		slices.Sort(rs)
		fmt.Fprintf(stdout, "%s: throughput %.2f × the no-op handler (median of %d rounds: %.2f); worst round p50 %.2f ms, p99 %.2f ms\n",
			name, rs[len(rs)/2], len(rs), rs, ms(worst[name].percentile(0.5)), ms(worst[name].percentile(0.99)))
	}
	unrecorded.stop()

	if err := burst(ctx, bot.base, secret, fake, o.burst, stdout); err != nil {
		fmt.Fprintf(stdout, "burst: %v\n", err)
	}
	fmt.Fprintf(stdout, "peak RSS: %.1f MiB\n", float64(bot.peakRSS())/(1<<20))
	code, err := bot.stop()
	fmt.Fprintf(stdout, "SIGTERM: exit status %d %v\n", code, errOrEmpty(err))
	if n, err := countRecords(ctx, filepath.Join(records, "records.db")); err == nil {
		fmt.Fprintf(stdout, "questions recorded (all flushed at SIGTERM): %d\n", n)
	}

	if o.indexDir != "" {
		again, startup, err := start(ctx, bin, []string{"serve"}, env, "/healthz")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restart with INDEX_PATH (reopen) to a healthy /healthz: %.0f ms\n", ms(startup))
		again.stop()
	}
	return nil
}

// countRecords counts the questions recorded in a SQLite file.
func countRecords(ctx context.Context, path string) (int, error) {
	s, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	st, err := s.Stats(ctx, time.Time{})
	return st.Total, err
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// burst sends n mentions at once and checks that each is acknowledged within 3 s and
// answered exactly once.
func burst(ctx context.Context, base, secret string, fake *fakeslack.Server, n int, stdout io.Writer) error {
	before := len(fake.Posts())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 10 * time.Second}
	acks := make([]time.Duration, n)
	qs := questions(n, 7)
	var failed atomic.Int64
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			// A channel each: answers to one channel are spaced by Slack's posting rate.
			ev := map[string]any{"type": "event_callback", "team_id": "T0FAKE", "event_id": fmt.Sprintf("EvBurst%d-%d", time.Now().UnixNano(), i),
				"event": map[string]any{"type": "app_mention", "user": "U1", "channel": fmt.Sprintf("CBURST%d", i), "ts": fmt.Sprintf("%d.000100", 1000+i),
					"text": fmt.Sprintf("<@%s> %s", fakeslack.BotUserID, qs[i])}}
			body, _ := json.Marshal(ev)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/slack/events", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			fakeslack.SignRequest(req, secret, body)
			<-ready
			t := time.Now()
			res, err := client.Do(req)
			acks[i] = time.Since(t)
			if err != nil {
				failed.Add(1)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				failed.Add(1)
			}
		})
	}
	close(ready)
	wg.Wait()
	slices.Sort(acks)
	posts, err := fake.WaitPosts(before+n, 30*time.Second)
	answered := map[string]int{}
	for _, p := range posts[before:] {
		if strings.HasPrefix(p.Channel, "CBURST") {
			answered[p.Channel]++
		}
	}
	twice := 0
	for _, c := range answered {
		if c > 1 {
			twice++
		}
	}
	fmt.Fprintf(stdout, "burst of %d mentions: slowest ack %.1f ms, %d refused, %d answered, %d answered more than once\n",
		n, ms(acks[n-1]), failed.Load(), len(answered), twice)
	if acks[n-1] > 3*time.Second || failed.Load() > 0 || len(answered) != n || twice > 0 {
		return fmt.Errorf("the burst missed its mark (%v)", err)
	}
	return nil
}
