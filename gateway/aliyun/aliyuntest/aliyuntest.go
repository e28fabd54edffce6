// Package aliyuntest is a fake Alibaba Cloud SMS API on loopback for tests:
// it checks the RPC signature of every request as Alibaba Cloud does, with
// its own implementation of the documented algorithm, refuses a wrong one
// (SignatureDoesNotMatch, HTTP 400) and a SignatureNonce used before
// (SignatureNonceUsed), and answers SendSms calls it accepts with a fresh
// BizId, keeping each for the test to read.
package aliyuntest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Send is one SendSms call the fake accepted.
type Send struct {
	PhoneNumbers, SignName, TemplateCode, OutID string
	// TemplateParam is the call's TemplateParam, decoded; nil when none.
	TemplateParam map[string]string
	// Query is every parameter of the call, Signature included.
	Query url.Values
	// BizID is what the fake answered with.
	BizID string
}

// Reply is an answer the test chooses for a SendSms call whose signature
// checked out: an HTTP status and a Code; Code "OK" is accepted with a
// fresh BizId.
type Reply struct {
	Status int
	Code   string
}

// Server is the fake API.
type Server struct {
	URL string
	// AccessKeyID and Secret are the one AccessKey the fake knows.
	AccessKeyID, Secret string
	// Respond, when set, chooses the answer to each signed SendSms call;
	// every call is accepted when nil.
	Respond func(Send) Reply
	// Now is the fake's clock, for the 15 minutes a Timestamp may be off.
	Now func() time.Time

	mu       sync.Mutex
	nonces   map[string]bool
	sends    []Send
	refusals []string
	n        int
}

// New starts a fake that knows one AccessKey; it stops when the test ends.
func New(tb testing.TB, accessKeyID, secret string) *Server {
	tb.Helper()
	s := &Server{AccessKeyID: accessKeyID, Secret: secret, nonces: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Sends returns the SendSms calls accepted so far, in order.
func (s *Server) Sends() []Send {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Send(nil), s.sends...)
}

// Refusals returns the codes of the calls refused so far, in order.
func (s *Server) Refusals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refusals...)
}

// maxSkew is how far a request's Timestamp may be from the server's clock.
const maxSkew = 15 * time.Minute

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.refuse(w, http.StatusBadRequest, "InvalidParameter")
		return
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		form, err := url.ParseQuery(string(body))
		if err != nil {
			s.refuse(w, http.StatusBadRequest, "InvalidParameter")
			return
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	for k, v := range params {
		if len(v) != 1 {
			s.refuse(w, http.StatusBadRequest, "InvalidParameter."+k)
			return
		}
	}
	get := params.Get
	for _, k := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Action", "Version"} {
		if get(k) == "" {
			s.refuse(w, http.StatusBadRequest, "MissingParameter."+k)
			return
		}
	}
	switch {
	case get("AccessKeyId") != s.AccessKeyID:
		s.refuse(w, http.StatusNotFound, "InvalidAccessKeyId.NotFound")
		return
	case get("SignatureMethod") != "HMAC-SHA1" || get("SignatureVersion") != "1.0":
		s.refuse(w, http.StatusBadRequest, "InvalidSignatureMethod")
		return
	}
	if !hmac.Equal([]byte(get("Signature")), []byte(signature(r.Method, params, s.Secret))) {
		s.refuse(w, http.StatusBadRequest, "SignatureDoesNotMatch")
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", get("Timestamp"))
	if now := s.now(); err != nil || ts.Before(now.Add(-maxSkew)) || ts.After(now.Add(maxSkew)) {
		s.refuse(w, http.StatusBadRequest, "InvalidTimeStamp.Expired")
		return
	}
	s.mu.Lock()
	used := s.nonces[get("SignatureNonce")]
	s.nonces[get("SignatureNonce")] = true
	s.mu.Unlock()
	if used {
		s.refuse(w, http.StatusBadRequest, "SignatureNonceUsed")
		return
	}
	if get("Action") != "SendSms" || get("Version") != "2017-05-25" {
		s.refuse(w, http.StatusBadRequest, "InvalidAction.NotFound")
		return
	}
	send := Send{PhoneNumbers: get("PhoneNumbers"), SignName: get("SignName"), TemplateCode: get("TemplateCode"), OutID: get("OutId"), Query: params}
	switch {
	case send.PhoneNumbers == "":
		s.refuse(w, http.StatusBadRequest, "MissingPhoneNumbers")
		return
	case send.SignName == "":
		s.refuse(w, http.StatusBadRequest, "MissingSignName")
		return
	case send.TemplateCode == "":
		s.refuse(w, http.StatusBadRequest, "MissingTemplateCode")
		return
	}
	if p := get("TemplateParam"); p != "" {
		if err := json.Unmarshal([]byte(p), &send.TemplateParam); err != nil {
			s.answer(w, http.StatusOK, "isv.INVALID_JSON_PARAM", "")
			return
		}
	}
	reply := Reply{Status: http.StatusOK, Code: "OK"}
	if s.Respond != nil {
		reply = s.Respond(send)
	}
	if reply.Code != "OK" {
		s.mu.Lock()
		s.refusals = append(s.refusals, reply.Code)
		s.mu.Unlock()
		s.answer(w, reply.Status, reply.Code, "")
		return
	}
	s.mu.Lock()
	s.n++
	send.BizID = fmt.Sprintf("%d^0", 900000000000000000+s.n)
	s.sends = append(s.sends, send)
	s.mu.Unlock()
	s.answer(w, http.StatusOK, "OK", send.BizID)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) refuse(w http.ResponseWriter, status int, code string) {
	s.mu.Lock()
	s.refusals = append(s.refusals, code)
	s.mu.Unlock()
	s.answer(w, status, code, "")
}

// answer writes an answer shaped as Alibaba Cloud's, whose Message may
// quote the request.
func (s *Server) answer(w http.ResponseWriter, status int, code, bizID string) {
	body := map[string]string{"RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "Code": code, "Message": code}
	if code == "OK" {
		body["Message"], body["BizId"] = "OK", bizID
	} else {
		body["Recommend"] = "https://api.aliyun.com/troubleshoot?q=" + code
		body["HostId"] = "dysmsapi.aliyuncs.com"
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// signature is the documented algorithm, written apart from the client's
// own so that a mistake in one is not repeated in the other: the Java
// recipe of the documentation, a form encoder with + made %20, * made %2A
// and %7E made ~ again.
func signature(method string, params url.Values, secret string) string {
	enc := func(s string) string {
		e := url.QueryEscape(s)
		return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(e)
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = enc(k) + "=" + enc(params.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(method + "&" + enc("/") + "&" + enc(strings.Join(pairs, "&"))))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
