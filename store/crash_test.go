package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/records"
)

const (
	crashEnvPath  = "FACEGATE_CRASH_STORE"
	crashEnvStart = "FACEGATE_CRASH_START"
	crashEnvSeed  = "FACEGATE_CRASH_SEED"
)

var crashKey = bytes.Repeat([]byte{0x3c}, 32)

func crashSecret() Secret {
	s, _ := RawKey(crashKey)
	return s
}

func crashVector(i int) []float32 { return randUnit(rand.New(rand.NewPCG(uint64(i), 77)), 64) }

func crashSubject(i int) string { return "s" + strconv.Itoa(i) }

// crashOp performs operation i: every fifth operation deletes the subject
// added two operations before; the others add a subject with one template
// and one consent record in a single transaction. Operations are idempotent
// so a restarted child can redo the one in flight at the kill.
func crashOp(s *Store, i int) (string, error) {
	if i%5 == 4 {
		err := s.DeleteSubject(crashSubject(i - 2))
		if errors.Is(err, ErrUnknownSubject) {
			err = nil
		}
		return "del", err
	}
	if ok, err := s.hasSubject(crashSubject(i)); err != nil || ok {
		return "add", err
	}
	tr, err := s.Transform(testModel, 64)
	if err != nil {
		return "", err
	}
	tp, err := tr.Protect(crashVector(i), 1, time.Unix(int64(i), 0))
	if err != nil {
		return "", err
	}
	return "add", s.Update(func(b records.Batch) error {
		if _, err := b.AddTemplate(crashSubject(i), tp); err != nil {
			return err
		}
		return b.PutRecord(crashSubject(i), "consent", "c", []byte("consent-"+strconv.Itoa(i)))
	})
}

// TestHelperProcess is the child of TestCrashSafety: it opens the store and
// performs operations from FACEGATE_CRASH_START on, printing "add i" or
// "del i" after each one is committed, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("child process of TestCrashSafety")
	}
	start, _ := strconv.Atoi(os.Getenv(crashEnvStart))
	s, err := Open(path, crashSecret(), &Options{LockTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	for i := start; ; i++ {
		op, err := crashOp(s, i)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child op:", err)
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "%s %d\n", op, i) // os.Stdout is unbuffered
	}
}

// TestCrashSafety kills an enrolling child process with SIGKILL at random
// points, 50 times, and after each kill reopens the store and checks that
// every acknowledged write is present and readable, every acknowledged
// deletion holds, and the file is consistent.
//
// The kill schedule (writes to wait for, extra delay) comes from a seed that
// is logged; set FACEGATE_CRASH_SEED to that value to replay the same
// schedule. The replay is as close as the scheduler allows: the same seed
// asks for the same kills, but where inside a write a kill lands still
// depends on timing.
func TestCrashSafety(t *testing.T) {
	rounds := 50
	if v, err := strconv.Atoi(os.Getenv("FACEGATE_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	began := time.Now()
	path := filepath.Join(t.TempDir(), "crash.db")
	s, err := Create(path, crashSecret(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashEnvSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not an unsigned decimal integer: %v", crashEnvSeed, v, err)
		}
		seed = n
	}
	t.Logf("kill schedule seed %d (replay with %s=%d)", seed, crashEnvSeed, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	added, deleted := map[int]bool{}, map[int]bool{}
	next := 0
	totalAcks, inFlightCommitted := 0, 0
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvStart+"="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acks := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				acks <- sc.Text()
			}
			close(acks)
		}()
		// Kill after a random number of acknowledged writes (0..24) plus a
		// random delay, so kills land before, between and inside writes.
		want := r.IntN(25)
		got := 0
		var lines []string
		timeout := time.After(20 * time.Second)
	wait:
		for got < want {
			select {
			case l, ok := <-acks:
				if !ok {
					break wait
				}
				lines = append(lines, l)
				got++
			case <-timeout:
				break wait
			}
		}
		time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		for l := range acks {
			lines = append(lines, l)
		}
		werr := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child was not killed: %v\n%s", round, werr, stderr.String())
		}
		for _, l := range lines {
			var op string
			var i int
			if _, err := fmt.Sscanf(l, "%s %d", &op, &i); err != nil {
				t.Fatalf("round %d: bad ack %q", round, l)
			}
			switch op {
			case "add":
				added[i] = true
			case "del":
				deleted[i-2] = true
			}
			next = i + 1
			totalAcks++
		}
		// Operation next was in flight at the kill: it may or may not have
		// committed. If it is a deletion, its subject may be gone.
		maybeDeleted := -1
		if next%5 == 4 {
			maybeDeleted = next - 2
		}
		verifyCrashStore(t, path, round, added, deleted, maybeDeleted)
		// Evidence that kills land inside writes: an unacknowledged add that
		// committed anyway.
		if next%5 != 4 && !added[next] {
			if st, err := Open(path, crashSecret(), nil); err == nil {
				if ok, _ := st.hasSubject(crashSubject(next)); ok {
					inFlightCommitted++
				}
				st.Close()
			}
		}
	}
	t.Logf("%d SIGKILLs, %d acknowledged operations verified, %d subjects live, %d kills fell between a commit and its acknowledgement; took %v",
		rounds, totalAcks, len(added)-len(deleted), inFlightCommitted, time.Since(began).Round(time.Millisecond))
}

func verifyCrashStore(t *testing.T, path string, round int, added, deleted map[int]bool, maybeDeleted int) {
	t.Helper()
	s, err := Open(path, crashSecret(), nil)
	if err != nil {
		t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
	}
	defer s.Close()
	// Nothing corrupt: bbolt's structure, every key, record and template.
	if err := s.Check(); err != nil {
		t.Fatalf("round %d: Check after SIGKILL: %v", round, err)
	}
	tr, err := s.Transform(testModel, 64)
	if err != nil {
		t.Fatal(err)
	}
	for i := range added {
		subj := crashSubject(i)
		if deleted[i] {
			if ok, _ := s.hasSubject(subj); ok {
				t.Fatalf("round %d: acknowledged deletion of %s lost", round, subj)
			}
			continue
		}
		ts, err := s.Templates(subj)
		if i == maybeDeleted && errors.Is(err, ErrUnknownSubject) {
			continue
		}
		if err != nil || len(ts) != 1 {
			t.Fatalf("round %d: acknowledged subject %s: %d templates, %v", round, subj, len(ts), err)
		}
		probe, _ := tr.Apply(crashVector(i))
		if d := dist(probe.Vector(), ts[0].Template.Vector()); d > 1e-5 {
			t.Fatalf("round %d: %s template differs by %g", round, subj, d)
		}
		c, err := s.GetRecord(subj, "consent", "c")
		if err != nil || string(c) != "consent-"+strconv.Itoa(i) {
			t.Fatalf("round %d: %s consent record %q, %v", round, subj, c, err)
		}
	}
	// Nothing corrupt: every template and record in the store opens.
	if err := s.each(func(Entry) error { return nil }); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	subs, _ := s.Subjects()
	for _, subj := range subs {
		if _, err := s.GetRecord(subj, "consent", "c"); err != nil {
			t.Fatalf("round %d: %s: %v", round, subj, err)
		}
	}
}
