package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// killEnv tells the test binary, run again by TestRecordSurvivesKill, to be the process
// that is killed.
const killEnv = "APIORINT_STORE_KILL_DB"

// A record is on disk within a second of being handed to the Recorder: a process killed
// with -9 a second later, without Close, leaves it in the SQLite file for the next one.
func TestRecordSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "killed.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), killEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "recorded" {
	}
	if lines.Err() != nil || lines.Text() != "recorded" {
		t.Fatalf("the process did not record: %v", lines.Err())
	}

	time.Sleep(time.Second) // the durability promised: about a second
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s := openStore(t, "sqlite:"+path)
	gaps, err := s.Gaps(context.Background(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) != 1 || gaps[0].Question != "asked just before the kill" {
		t.Errorf("gaps = %+v, want the question recorded before the kill", gaps)
	}
}

// TestKilledProcess is the process TestRecordSurvivesKill kills: it records a question,
// says so, and waits to be killed.
func TestKilledProcess(t *testing.T) {
	path := os.Getenv(killEnv)
	if path == "" {
		t.Skip("run by TestRecordSurvivesKill")
	}
	s, err := Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(s, RecorderOptions{})
	go r.Run(context.Background())
	r.Question(Question{ID: "q1", Text: "asked just before the kill", Outcome: OutcomeNone})
	fmt.Println("recorded")
	select {}
}
