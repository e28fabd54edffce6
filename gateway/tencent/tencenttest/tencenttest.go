// Package tencenttest is a fake Tencent Cloud SMS API on loopback for tests:
// it checks the TC3-HMAC-SHA256 signature of every request as Tencent does,
// refuses a bad one with Tencent's own error (AuthFailure.SignatureFailure
// and its kin, HTTP 200 with Response.Error), and records the SendSms
// requests it accepted.
package tencenttest

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/tencent"
)

// Tencent's words for the refusals the fake makes, as its API answers them.
const (
	SignatureFailure     = "AuthFailure.SignatureFailure"
	SignatureExpire      = "AuthFailure.SignatureExpire"
	InvalidAuthorization = "AuthFailure.InvalidAuthorization"
	SecretIDNotFound     = "AuthFailure.SecretIdNotFound"
	signatureFailureText = "The provided credentials could not be validated. Please check your signature is correct."
)

// maxSkew is how far X-TC-Timestamp may be from the server's clock.
const maxSkew = 5 * time.Minute

// Send is one SendSms request the fake accepted.
type Send struct {
	PhoneNumberSet   []string
	SmsSdkAppID      string `json:"SmsSdkAppId"`
	SignName         string
	TemplateID       string `json:"TemplateId"`
	TemplateParamSet []string
	// Region is X-TC-Region.
	Region string
}

// Status is the fake's answer for one number: Code "Ok" with a SerialNo,
// or a refusal code.
type Status struct {
	Code     string
	SerialNo string
}

// Server is the fake API.
type Server struct {
	// URL is the endpoint to point a tencent.Sender at.
	URL string
	// SecretID and SecretKey are the only credentials it accepts.
	SecretID, SecretKey string
	// Respond decides each number's outcome of an accepted request; every
	// number is accepted under a fresh SerialNo when nil.
	Respond func(s Send, phone string) Status
	// Now is the server's clock; time.Now when nil.
	Now func() time.Time

	mu       sync.Mutex
	sends    []Send
	refusals []string
	serial   int
}

// New starts a fake API that accepts requests signed with secretID and
// secretKey. It stops when the test ends.
func New(tb testing.TB, secretID, secretKey string) *Server {
	tb.Helper()
	s := &Server{SecretID: secretID, SecretKey: secretKey}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Sends returns the SendSms requests accepted so far, in order.
func (s *Server) Sends() []Send {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Send(nil), s.sends...)
}

// Refusals returns the error codes the fake answered with so far.
func (s *Server) Refusals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refusals...)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if code, msg := s.verify(r, body); code != "" {
		s.refuse(w, code, msg)
		return
	}
	switch {
	case r.Header.Get("X-TC-Action") != tencent.ActionSend:
		s.refuse(w, "InvalidAction", "The action is not supported by this fake.")
		return
	case r.Header.Get("X-TC-Version") != tencent.APIVersion:
		s.refuse(w, "NoSuchVersion", "The version is not supported by this fake.")
		return
	}
	var send Send
	if err := json.Unmarshal(body, &send); err != nil || len(send.PhoneNumberSet) == 0 || send.TemplateID == "" || send.SmsSdkAppID == "" {
		s.refuse(w, "FailedOperation.FailResolvePacket", "The request body could not be parsed.")
		return
	}
	send.Region = r.Header.Get("X-TC-Region")
	type sendStatus struct {
		SerialNo, PhoneNumber string
		Fee                   int
		SessionContext        string
		Code, Message         string
		IsoCode               string
	}
	var statuses []sendStatus
	s.mu.Lock()
	s.sends = append(s.sends, send)
	for _, phone := range send.PhoneNumberSet {
		st := Status{Code: "Ok"}
		if s.Respond != nil {
			st = s.Respond(send, phone)
		}
		msg := "send success"
		if st.Code == "Ok" && st.SerialNo == "" {
			s.serial++
			st.SerialNo = fmt.Sprintf("2433:%d", 104571066915705365+s.serial)
		}
		if st.Code != "Ok" {
			// Tencent's messages quote the number; so does the fake's, so
			// that a client that passes them on is caught.
			msg = "refused " + phone
		}
		fee := 0
		if st.Code == "Ok" {
			fee = 1
		}
		statuses = append(statuses, sendStatus{SerialNo: st.SerialNo, PhoneNumber: phone, Fee: fee, Code: st.Code, Message: msg, IsoCode: "CN"})
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"Response": map[string]any{"SendStatusSet": statuses, "RequestId": requestID()}})
}

// verify checks a request's signature the way Tencent does and returns the
// error code and message of a refusal, or "".
func (s *Server) verify(r *http.Request, body []byte) (code, msg string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, tencent.Algorithm+" ")
	if !ok {
		return InvalidAuthorization, "The Authorization header is not TC3-HMAC-SHA256."
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			return InvalidAuthorization, "The Authorization header is malformed."
		}
		parts[k] = v
	}
	cred := strings.Split(parts["Credential"], "/")
	if len(cred) != 4 || cred[3] != "tc3_request" || parts["SignedHeaders"] == "" || parts["Signature"] == "" {
		return InvalidAuthorization, "The Authorization header is malformed."
	}
	id, date, service := cred[0], cred[1], cred[2]
	if id != s.SecretID {
		return SecretIDNotFound, "The SecretId is not found."
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return "MissingParameter", "The X-TC-Timestamp header is missing."
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return SignatureExpire, "The signature expired."
	}
	if date != tencent.Date(ts) || service != tencent.Service {
		return SignatureFailure, signatureFailureText
	}
	// The headers the client says it signed, with their values as
	// received; content-type and host must be among them.
	var headers []tencent.Header
	seen := map[string]bool{}
	for _, name := range strings.Split(parts["SignedHeaders"], ";") {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		headers = append(headers, tencent.Header{Name: name, Value: v})
		seen[name] = true
	}
	if !seen["content-type"] || !seen["host"] {
		return SignatureFailure, signatureFailureText
	}
	canonical, signed := tencent.CanonicalRequest(r.Method, headers, body)
	if signed != parts["SignedHeaders"] {
		return SignatureFailure, signatureFailureText // not sorted, or not lower case
	}
	want := tencent.Signature(tencent.SigningKey(s.SecretKey, date, service), tencent.StringToSign(ts, service, canonical))
	if !hmac.Equal([]byte(want), []byte(parts["Signature"])) {
		return SignatureFailure, signatureFailureText
	}
	return "", ""
}

func (s *Server) refuse(w http.ResponseWriter, code, msg string) {
	s.mu.Lock()
	s.refusals = append(s.refusals, code)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": requestID(),
	}})
}

// writeJSON answers HTTP 200, as Tencent's API does whatever happened.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func requestID() string {
	return fmt.Sprintf("fake-%d", time.Now().UnixNano())
}
