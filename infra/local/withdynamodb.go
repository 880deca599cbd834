package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/uauth/uauth/pkg/dynamolocal"
)

// exitCode carries a wrapped command's exit status out of main.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// withDynamoDB runs a command with DYNAMODB_ENDPOINT pointing at a fresh
// in-memory DynamoDB Local, which it stops afterwards whatever happens: one
// JVM for the whole test run instead of one per package.
func withDynamoDB(args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("usage: with-dynamodb -- COMMAND [ARGS...]")
	}
	env := os.Environ()
	if os.Getenv("DYNAMODB_ENDPOINT") == "" {
		root, err := dynamolocal.RepoRoot()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		start := time.Now()
		inst, err := dynamolocal.Start(ctx, dynamolocal.Options{Root: root})
		cancel()
		if err != nil {
			return err
		}
		defer inst.Stop()
		fmt.Fprintf(os.Stderr, "DynamoDB Local (in memory) on %s, ready in %s\n", inst.Endpoint, time.Since(start).Round(time.Millisecond))
		env = append(env, "DYNAMODB_ENDPOINT="+inst.Endpoint)
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, os.Stdout, os.Stderr
	// Pass SIGINT and SIGTERM on to the command and outlive it, so that
	// DynamoDB Local is stopped after it, whoever sent the signal.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		for sig := range signals {
			_ = cmd.Process.Signal(sig)
		}
	}()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitCode(128 + int(ws.Signal())) // as a shell reports it
		}
		return exitCode(exitErr.ExitCode())
	}
	return err
}
