package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// simulate is a terminal phone: it posts Africa's Talking callbacks to a
// running gateway exactly as the carrier would (cumulative text joined by
// '*') and prints each screen.
func simulate(ctx context.Context, cfg config, args []string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(out)
	phone := fs.String("phone", "+8613800138002", "caller's phone number")
	code := fs.String("code", "*384*2015#", "USSD service code to dial")
	base := fs.String("url", defaultURL(cfg.Addr), "gateway base URL")
	network := fs.String("network", "46000", "network code sent to the gateway")
	asSMS := fs.Bool("sms", false, "send text messages instead of dialling: each line typed (or each argument) is one SMS")
	if err := fs.Parse(args); err != nil {
		return usageError{}
	}
	if *asSMS {
		return simulateSMS(ctx, *base, *phone, fs.Args(), stdin, out)
	}
	session := "SIM" + randomHex(8)
	client := &http.Client{Timeout: 15 * time.Second}
	endpoint := strings.TrimRight(*base, "/") + "/ussd/africastalking"
	in := bufio.NewScanner(stdin)
	var inputs []string
	fmt.Fprintf(out, "dialling %s as %s (session %s)\n", *code, *phone, session)
	for {
		form := url.Values{
			"sessionId":   {session},
			"serviceCode": {*code},
			"phoneNumber": {*phone},
			"networkCode": {*network},
			"text":        {strings.Join(inputs, "*")},
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("gateway at %s: %w (is `barefoot serve` running?)", *base, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return err
		}
		text := string(body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("gateway answered %s: %s", resp.Status, text)
		}
		screen, end := strings.CutPrefix(text, "END ")
		if !end {
			var ok bool
			if screen, ok = strings.CutPrefix(text, "CON "); !ok {
				return fmt.Errorf("gateway reply starts with neither CON nor END: %q", text)
			}
		}
		fmt.Fprintf(out, "\n%s\n", screen)
		if end {
			fmt.Fprintln(out, "[session ended]")
			return nil
		}
		fmt.Fprint(out, "> ")
		if !in.Scan() {
			fmt.Fprintln(out, "\n[hung up]")
			return in.Err()
		}
		inputs = append(inputs, strings.TrimSpace(in.Text()))
	}
}

func defaultURL(addr string) string {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + host + ":" + port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// simulateSMS sends messages through the gateway's Kannel endpoint, which
// answers inline, and prints each reply.
func simulateSMS(ctx context.Context, base, from string, messages []string, stdin io.Reader, out io.Writer) error {
	client := &http.Client{Timeout: 15 * time.Second}
	send := func(text string) error {
		q := url.Values{"from": {from}, "to": {"10690001"}, "text": {text}, "id": {"SIM" + randomHex(8)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/sms/kannel?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("gateway at %s: %w (is `barefoot serve` running?)", base, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("gateway answered %s: %s", resp.Status, body)
		}
		if len(body) == 0 {
			fmt.Fprintln(out, "[no reply]")
		} else {
			fmt.Fprintf(out, "%s\n", body)
		}
		return nil
	}
	if len(messages) > 0 {
		return send(strings.Join(messages, " "))
	}
	fmt.Fprintf(out, "texting the gateway as %s; one line is one SMS\n> ", from)
	in := bufio.NewScanner(stdin)
	for in.Scan() {
		if err := send(in.Text()); err != nil {
			return err
		}
		fmt.Fprint(out, "> ")
	}
	fmt.Fprintln(out)
	return in.Err()
}
