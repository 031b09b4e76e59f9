package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// clusterNode is one nats-server process of a test cluster. Its ports and
// store are fixed at creation so that a restart rejoins as the same peer.
type clusterNode struct {
	name       string
	clientPort int
	routePort  int
	store      string
	cmd        *exec.Cmd
	done       chan struct{}
}

func (n *clusterNode) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.clientPort) }

// testCluster is a three-node JetStream cluster of `go tool nats-server`
// processes on loopback ports, each with its own store directory.
type testCluster struct {
	t     *testing.T
	bin   string
	nodes []*clusterNode
	log   *os.File
}

func startCluster(t *testing.T) *testCluster {
	t.Helper()
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bin, err := quickstart.ServerBinary(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "nats.log"))
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, bin: bin, log: log}
	ports := harness.FreePorts(t, 6)
	for i := range 3 {
		c.nodes = append(c.nodes, &clusterNode{
			name: "n" + strconv.Itoa(i+1), clientPort: ports[2*i], routePort: ports[2*i+1],
			store: filepath.Join(dir, "n"+strconv.Itoa(i+1)),
		})
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			c.kill(n)
		}
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("nats-server logs:\n%s", harness.LastBytes(b, 6000))
		}
		log.Close()
	})
	for _, n := range c.nodes {
		c.start(n)
	}
	return c
}

func (c *testCluster) start(n *clusterNode) {
	c.t.Helper()
	var routes []string
	for _, o := range c.nodes {
		if o != n {
			routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", o.routePort))
		}
	}
	n.cmd = exec.Command(c.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(n.clientPort), "-js", "-sd", n.store,
		"--server_name", n.name, "--cluster_name", "gm-test",
		"--cluster", fmt.Sprintf("nats://127.0.0.1:%d", n.routePort), "--routes", strings.Join(routes, ","))
	n.cmd.Stdout, n.cmd.Stderr = c.log, c.log
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", n.name, err)
	}
	n.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(n.cmd, n.done)
}

// kill ends a node with SIGKILL, as a crashed machine would go.
func (c *testCluster) kill(n *clusterNode) {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

func (c *testCluster) urls() string {
	var us []string
	for _, n := range c.nodes {
		us = append(us, n.url())
	}
	return strings.Join(us, ",")
}

func (c *testCluster) node(name string) *clusterNode {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	c.t.Fatalf("no node %q", name)
	return nil
}

// connect returns a JetStream client on every seed that reconnects forever.
func (c *testCluster) connect() jetstream.JetStream {
	c.t.Helper()
	nc, err := nats.Connect(c.urls(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(3*time.Second))
	if err != nil {
		c.t.Fatal(err)
	}
	return js
}

// ensureR3 creates the pipeline's streams and KV bucket with three replicas
// once the cluster has elected its meta leader and every peer has joined.
func (c *testCluster) ensureR3(js jetstream.JetStream) {
	c.t.Helper()
	cfg := topology.Default()
	cfg.Replicas = 3
	natstest.Eventually(c.t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := topology.Ensure(ctx, js, cfg)
		return err
	})
}

// streamLeader returns the node leading stream, once it has one.
func (c *testCluster) streamLeader(js jetstream.JetStream, stream string) *clusterNode {
	c.t.Helper()
	var leader string
	natstest.Eventually(c.t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Errorf("stream %s has no leader", stream)
		}
		leader = info.Cluster.Leader
		return nil
	})
	return c.node(leader)
}

// waitCurrent waits until every replica of the pipeline's streams and
// consumers is current again, so that the next kill never takes away the
// last up-to-date copy of one of them.
func (c *testCluster) waitCurrent(js jetstream.JetStream) {
	c.t.Helper()
	check := func(what string, ci *jetstream.ClusterInfo) error {
		if ci == nil || ci.Leader == "" || len(ci.Replicas) != 2 {
			return fmt.Errorf("%s: cluster %+v", what, ci)
		}
		for _, r := range ci.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("%s: replica %s not current", what, r.Name)
			}
		}
		return nil
	}
	natstest.Eventually(c.t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, name := range []string{"GIGYA_ACCOUNTS", "USERS_MAPPED", "ETL_DEADLETTER", "KV_etl_state"} {
			s, err := js.Stream(ctx, name)
			if err != nil {
				return err
			}
			if err := check(name, s.CachedInfo().Cluster); err != nil {
				return err
			}
		}
		for _, r := range []quickstart.ConsumerRef{{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-auth0"}, {Stream: "USERS_MAPPED", Durable: "loader-auth0-file"}} {
			cons, err := js.Consumer(ctx, r.Stream, r.Durable)
			if err != nil {
				return err
			}
			if err := check(r.Durable, cons.CachedInfo().Cluster); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadedSoFar is how many users the loader acked.
func loadedSoFar(js jetstream.JetStream) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, "USERS_MAPPED", "loader-auth0-file")
	if err != nil {
		return 0
	}
	return c.CachedInfo().AckFloor.Consumer
}

// TestEndToEndClusterNodeLoss runs the three binaries against a three-node
// JetStream cluster with R3 streams on 20,000 accounts and kills nodes with
// SIGKILL mid-run: first the leader of the streams, then, in a second trial,
// the leader and afterwards another node. Every user must reach the sink
// exactly once and extracted = loaded + dead-lettered + filtered.
func TestEndToEndClusterNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "accounts.jsonl.gz")
	exp := harness.WriteInput(t, input, 20_000)
	harness.BinDir(t) // build before the clusters start, outside their timing
	t.Run("leader", func(t *testing.T) { clusterTrial(t, input, exp, false) })
	t.Run("leader-then-another", func(t *testing.T) { clusterTrial(t, input, exp, true) })
}

func clusterTrial(t *testing.T, input string, exp harness.Expectation, second bool) {
	c := startCluster(t)
	js := c.connect()
	// The streams exist before the binaries start, as an operator would
	// create them; a stage starting during an election waits for it
	// (stage.Start retries within nats.connect_retry).
	c.ensureR3(js)
	out := filepath.Join(t.TempDir(), "out")
	env := []string{"GM_STREAMS_REPLICAS=3", "GM_TRANSFORMER_WORKERS=2",
		"GM_NATS_RECONNECT_WAIT=500ms", "GM_LOADER_BATCH_MAX_RECORDS=500",
		// An ack lost with a killed node redelivers after ack_wait: keep
		// the wait short so the drain does not sit out the default minute.
		"GM_LOADER_CONSUMER_ACK_WAIT=5s",
		// Back-pressure keeps the extractor a few thousand accounts ahead
		// of the transformers, so it is still publishing and saving
		// checkpoints when the nodes die.
		"GM_BACKPRESSURE_HIGH_WATER=3000", "GM_BACKPRESSURE_LOW_WATER=1500",
		// Above stage.PubAckTimeout, as the default (30s) is: with the 2s
		// of the other tests, a publish waiting out a lost PubAck lets the
		// input be redelivered until max_deliver gives it up as a dead
		// letter while the first delivery still completes.
		"GM_TRANSFORMER_CONSUMER_ACK_WAIT=8s"}
	if second {
		// The killed node's restart and catch-up take seconds, longer on a
		// busy machine (one CI run saw them outlast 14 s of loading at
		// 800 users/s): a throttled loader keeps the run going past them,
		// so the second loss lands mid-run (about 35 s of loading).
		env = append(env, "GM_LOADER_RATE=500")
	}
	p := harness.NewPipeline(t, c.urls(), out, env...)

	ex := p.Start("extractor", "-site", "e2e", input)
	trs := []*quickstart.Proc{p.Start("transformer"), p.Start("transformer")}
	ld := p.Start("loader")

	users := uint64(len(exp.Loaded))
	waitLoaded := func(n uint64) {
		t.Helper()
		natstest.Eventually(t, 2*time.Minute, func() error {
			if got := loadedSoFar(js); got < n {
				return fmt.Errorf("%d of %d users loaded", got, n)
			}
			return nil
		})
	}
	waitLoaded(users / 3)
	leader := c.streamLeader(js, "GIGYA_ACCOUNTS")
	t.Logf("killing %s, leader of GIGYA_ACCOUNTS, at %d users loaded", leader.name, loadedSoFar(js))
	c.kill(leader)
	select {
	case <-ex.Done():
		t.Fatal("the extractor had finished before the kill: the test did not exercise its publishing")
	default:
	}
	if second {
		// The survivors carry on; the killed node comes back and catches
		// up, then another node dies: R3 keeps a quorum throughout.
		waitLoaded(users/3 + users/10)
		c.start(leader)
		c.waitCurrent(js)
		other := c.streamLeader(js, "USERS_MAPPED")
		if other == leader {
			other = c.nodes[(indexOf(c.nodes, leader)+1)%len(c.nodes)]
		}
		loaded := loadedSoFar(js)
		t.Logf("killing %s at %d users loaded", other.name, loaded)
		c.kill(other)
		if loaded >= users {
			t.Fatal("the pipeline had finished before the second kill: the test did not exercise it")
		}
	}

	if code := harness.ExitCode(t, ex); code != 3 { // 3: finished with dead letters (the broken lines)
		t.Fatalf("extractor exit %d, want 3; its log:\n%s", code, linesOf(p.LogPath(), "extractor", 30))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := harness.WaitDrainedRefs(ctx, js, "loader-auth0-file"); err != nil {
		for _, r := range [][2]string{{"GIGYA_ACCOUNTS", "transformer-auth0"}, {"USERS_MAPPED", "loader-auth0-file"}} {
			if info := harness.ConsumerInfo(t, js, r[0], r[1]); info != nil {
				t.Logf("%s: pending %d, ack pending %d, redelivered %d, delivered %+v, ack floor %+v, cluster %+v",
					r[1], info.NumPending, info.NumAckPending, info.NumRedelivered, info.Delivered, info.AckFloor, info.Cluster)
			}
		}
		t.Fatalf("pipeline did not drain: %v", err)
	}
	harness.StopGracefully(t, append(trs, ld)...)
	for _, proc := range append(trs, ex) {
		if strings.Contains(proc.Output(), `"status":"failed"`) {
			t.Fatalf("%s failed: %s", proc.Name, proc.Output())
		}
	}
	logDeadLetterCodes(t, js)
	harness.CheckExactlyOnce(t, js, out, exp, -1)
	mapped := streamInfo(t, js, "USERS_MAPPED")
	if n := mapped.State.Msgs; n != users {
		t.Fatalf("USERS_MAPPED holds %d messages, want %d: a retried publish was stored twice", n, users)
	}
	raw := streamInfo(t, js, "GIGYA_ACCOUNTS")
	if want := uint64(exp.Lines - exp.ExtractDL); raw.State.Msgs != want {
		t.Fatalf("GIGYA_ACCOUNTS holds %d messages, want %d", raw.State.Msgs, want)
	}
	// The sizing figures of the README ("Running at scale"): bytes per
	// message as the stream counts them, on each of the three nodes.
	t.Logf("GIGYA_ACCOUNTS: %d bytes for %d accounts (%d B each); USERS_MAPPED: %d bytes for %d users (%d B each)",
		raw.State.Bytes, raw.State.Msgs, raw.State.Bytes/max(raw.State.Msgs, 1),
		mapped.State.Bytes, mapped.State.Msgs, mapped.State.Bytes/max(mapped.State.Msgs, 1))
}

func indexOf(nodes []*clusterNode, n *clusterNode) int {
	for i, o := range nodes {
		if o == n {
			return i
		}
	}
	return -1
}

// streamInfo reads a stream's info, waiting out an election.
func streamInfo(t *testing.T, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	var info *jetstream.StreamInfo
	natstest.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, name)
		if err != nil {
			return err
		}
		info, err = s.Info(ctx)
		return err
	})
	return info
}

// linesOf returns the last n lines of the log file that mention who: the
// logs of several processes are interleaved in one file.
func linesOf(file, who string, n int) string {
	b, _ := os.ReadFile(file)
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, "stage="+who) || strings.HasPrefix(line, who+":") {
			out = append(out, line)
		}
	}
	return strings.Join(out[max(len(out)-n, 0):], "\n")
}

// logDeadLetterCodes logs the dead letters by error code, and any
// Nats-Msg-Id stored twice: what to look at when the counts are off.
func logDeadLetterCodes(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	s := streamInfo(t, js, "ETL_DEADLETTER")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, "ETL_DEADLETTER")
	if err != nil {
		t.Fatal(err)
	}
	codes, ids := map[string]int{}, map[string]int{}
	for seq := s.State.FirstSeq; s.State.Msgs > 0 && seq <= s.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		codes[m.Header.Get("Etl-Error-Code")]++
		ids[m.Header.Get("Nats-Msg-Id")]++
	}
	var twice []string
	for id, n := range ids {
		if n > 1 {
			twice = append(twice, id)
		}
	}
	t.Logf("dead letters by code: %v; stored more than once: %v", codes, twice)
}
