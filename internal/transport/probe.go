package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// probeTimeout bounds the handshake SpeaksTLS attempts.
const probeTimeout = 3 * time.Second

// SpeaksTLS tells whether the server at hostport (port 443 when it has
// none) answers a TLS handshake. It is how a registry on this machine is
// found to be HTTPS or plain HTTP, as docker does for loopback registries.
//
// Only a server that answers in TLS counts: one that answers with other
// bytes (an HTTP server's "400 Bad Request"), closes the connection or
// cannot be reached does not. The certificate is not checked here — the
// connection carries no request — but by the requests that follow.
func SpeaksTLS(ctx context.Context, hostport string) bool {
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(hostport, "443")
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return false
	}
	defer conn.Close()
	host, _, _ := net.SplitHostPort(hostport)
	// Nothing is sent over this connection but a ClientHello.
	tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // probe only
	err = tc.HandshakeContext(ctx)
	if err == nil {
		return true
	}
	// A TLS alert (e.g. "certificate required" from a server that wants a
	// client certificate) still means the server speaks TLS.
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}
