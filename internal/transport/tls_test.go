package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestSpeaksTLS(t *testing.T) {
	ctx := context.Background()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	secure := httptest.NewUnstartedServer(http.NotFoundHandler())
	secure.Config.ErrorLog = log.New(io.Discard, "", 0)
	secure.StartTLS()
	defer secure.Close()
	mutual := httptest.NewUnstartedServer(http.NotFoundHandler())
	mutual.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	mutual.Config.ErrorLog = log.New(io.Discard, "", 0)
	mutual.StartTLS()
	defer mutual.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	for name, tc := range map[string]struct {
		host string
		want bool
	}{
		"plain HTTP":                  {plain.Listener.Addr().String(), false},
		"HTTPS":                       {secure.Listener.Addr().String(), true},
		"HTTPS wanting a client cert": {mutual.Listener.Addr().String(), true},
		"nothing listening":           {closed, false},
	} {
		if got := SpeaksTLS(ctx, tc.host); got != tc.want {
			t.Errorf("%s: SpeaksTLS = %v, want %v", name, got, tc.want)
		}
	}
}

func TestTLSConfig(t *testing.T) {
	if cfg, err := (TLS{}).Config(); cfg != nil || err != nil {
		t.Errorf("defaults: %v, %v", cfg, err)
	}
	cfg, err := TLS{Insecure: true}.Config()
	if err != nil || !cfg.InsecureSkipVerify {
		t.Errorf("insecure: %+v, %v", cfg, err)
	}
	dir := t.TempDir()
	notPEM := dir + "/ca.pem"
	os.WriteFile(notPEM, []byte("not a certificate"), 0o644)
	for _, bad := range []TLS{
		{CAFile: dir + "/missing.pem"},
		{CAFile: notPEM},
		{CertFile: "c.pem"},
		{KeyFile: "k.pem"},
		{CertFile: dir + "/c.pem", KeyFile: dir + "/k.pem"},
	} {
		if _, err := bad.Config(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// TestProxyFromEnvironment checks that the transport takes its proxy from
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY. net/http reads them once per
// process, so each case runs in a child process with its own environment.
// (The CLI script tls_proxy.txtar goes through a real proxy end to end.)
func TestProxyFromEnvironment(t *testing.T) {
	if target := os.Getenv("BLOBBER_PROXY_CHILD"); target != "" {
		base := New(Options{}).(stack).once.(*http.Transport)
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		u, err := base.Proxy(req)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		if u == nil {
			fmt.Println("direct")
			return
		}
		fmt.Println(u.String())
		return
	}
	cases := []struct {
		env    []string
		target string
		want   string
	}{
		{[]string{"HTTPS_PROXY=http://proxy.example:3128"}, "https://registry.example.com/v2/", "http://proxy.example:3128"},
		{[]string{"HTTP_PROXY=http://proxy.example:8080"}, "http://registry.example.com/v2/", "http://proxy.example:8080"},
		{[]string{"HTTP_PROXY=http://proxy.example:8080"}, "https://registry.example.com/v2/", "direct"},
		{[]string{"HTTPS_PROXY=http://proxy.example:3128", "NO_PROXY=.example.com"}, "https://registry.example.com/v2/", "direct"},
		{[]string{"HTTPS_PROXY=http://proxy.example:3128", "NO_PROXY=other.example"}, "https://registry.example.com/v2/", "http://proxy.example:3128"},
		// net/http never proxies loopback, which is why the end-to-end
		// test uses names that resolve nowhere.
		{[]string{"HTTPS_PROXY=http://proxy.example:3128"}, "https://127.0.0.1:5000/v2/", "direct"},
	}
	for _, tc := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$")
		cmd.Env = append(cleanProxyEnv(), "BLOBBER_PROXY_CHILD="+tc.target)
		cmd.Env = append(cmd.Env, tc.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		got, _, _ := strings.Cut(string(out), "\n")
		if got != tc.want {
			t.Errorf("%v, %s: proxy %q, want %q", tc.env, tc.target, got, tc.want)
		}
	}
}

func cleanProxyEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUEST_METHOD":
			continue
		}
		env = append(env, kv)
	}
	return env
}
