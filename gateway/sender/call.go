package sender

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultClient makes calls that name no client. Ten seconds is what the
// carriers' own SDKs allow (Africa's Talking's: about 3 s to connect and 9
// to read).
var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Call is one request to a carrier's send API: a form, as every carrier
// here takes one.
type Call struct {
	// Carrier names the carrier in reasons ("twilio").
	Carrier string
	// Method is POST, the form going as the body, or GET, the form going
	// as the query string (Kannel's sendsms).
	Method string
	// URL is the endpoint, without a query string.
	URL  string
	Form url.Values
	// Header holds extra headers, such as credentials and Accept.
	Header http.Header
	// User and Password, when User is set, go as HTTP Basic auth.
	User, Password string
	// Client makes the call; one with a 10 s timeout when nil.
	Client *http.Client
	// Limit bounds what is read of the answer, in bytes: a carrier's
	// answer to one send is small, and a broken one must not fill memory.
	Limit int64
}

// Answer is a send API's answer to a Call.
type Answer struct {
	Status int
	// Body is the answer's first Limit bytes.
	Body []byte
}

// OK reports whether the status is 2xx.
func (a Answer) OK() bool { return a.Status/100 == 2 }

// Do makes the call. Its errors never quote the request, whose URL and
// body hold the number, the text and, for Kannel, the password: a request
// that cannot be built is final (a bad base URL), and a failure to reach
// the carrier or to read its answer is retryable (Transport).
func (c Call) Do(ctx context.Context) (Answer, error) {
	var body io.Reader
	target := c.URL
	if c.Method == http.MethodGet {
		target += "?" + c.Form.Encode()
	} else {
		body = strings.NewReader(c.Form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, target, body)
	if err != nil {
		// Not err itself: it would quote the URL.
		return Answer{}, Finalf("%s: build request: bad BaseURL", c.Carrier)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	client := c.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, Transport(c.Carrier, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.Limit))
	if err != nil {
		return Answer{}, Transport(c.Carrier, err)
	}
	return Answer{Status: resp.StatusCode, Body: b}, nil
}
