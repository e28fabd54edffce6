package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// ErrNotLoopback refuses a target off this machine: a load generator must
// never be pointed at someone else's server, by mistake or otherwise.
var ErrNotLoopback = errors.New("loadgen: only a gateway on this machine may be loaded (127.0.0.0/8, ::1 or localhost)")

// checkTarget parses the gateway's base URL and refuses any host that is
// not a loopback address. Names other than localhost are refused without
// a lookup, so no resolver can point the load elsewhere.
func checkTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("loadgen: url %q: want http:// or https://", raw)
	}
	if _, err := loopbackHost(u.Hostname()); err != nil {
		return nil, fmt.Errorf("url %q: %w", raw, err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("loadgen: url %q: want a base URL such as http://127.0.0.1:8080", raw)
	}
	return u, nil
}

// loopbackHost returns the loopback IP to dial for host: the address
// itself, or 127.0.0.1 for localhost.
func loopbackHost(host string) (string, error) {
	if strings.EqualFold(host, "localhost") {
		return "127.0.0.1", nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return "", ErrNotLoopback
	}
	return ip.String(), nil
}

// newClient is one simulated phone's HTTP client: a single keep-alive
// connection, as a carrier's callbacks for one subscriber would reuse,
// that can dial nothing but loopback (checked again at dial time, so no
// redirect or later change reaches another host) and follows no
// redirect. dials counts the connections it opens.
func newClient(dials *atomic.Int64) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, fmt.Errorf("loadgen: refusing to dial %q: %w", address, err)
			}
			ip, err := loopbackHost(host)
			if err != nil {
				return nil, fmt.Errorf("loadgen: refusing to dial %s: %w", address, err)
			}
			dials.Add(1)
			return dialer.DialContext(ctx, network, net.JoinHostPort(ip, port))
		},
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
