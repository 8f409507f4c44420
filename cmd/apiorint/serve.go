package main

import (
	"context"
	"errors"
	"io"
)

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	return errors.New("SLACK_BOT_TOKEN is required to serve")
}

func healthcheck(ctx context.Context, getenv func(string) string) error {
	return errors.New("not yet")
}
