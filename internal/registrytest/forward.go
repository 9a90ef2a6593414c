package registrytest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"
)

// ForwardProxy is an HTTP proxy, what HTTP_PROXY and HTTPS_PROXY name: it
// forwards absolute-form requests (plain HTTP) and tunnels CONNECT (HTTPS).
// It reaches only the hosts in its routes, each mapped to a local address,
// so a client can be sent to a registry under a name that resolves nowhere
// — which is also how a test tells that the client used the proxy: net/http
// never proxies loopback addresses.
type ForwardProxy struct {
	srv    *http.Server
	host   string
	routes map[string]string
	rp     *httputil.ReverseProxy

	mu      sync.Mutex
	seen    []string
	tunnels map[net.Conn]struct{} // hijacked, so Close must close them

	closeOnce sync.Once
}

// StartForwardProxy starts a forward proxy on 127.0.0.1. routes maps a
// host:port clients ask for to the host:port it is sent to.
func StartForwardProxy(routes map[string]string) (*ForwardProxy, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &ForwardProxy{host: ln.Addr().String(), routes: routes, tunnels: map[net.Conn]struct{}{}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = p.routes[pr.In.URL.Host]
			pr.Out.Host = pr.In.URL.Host // the name the client used
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorLog:      discardLog,
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, ErrorLog: discardLog}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's URL, for HTTP_PROXY or HTTPS_PROXY.
func (p *ForwardProxy) URL() string { return "http://" + p.host }

// Requests lists what the proxy was asked, in order: "CONNECT host:port"
// or "GET host:port/path".
func (p *ForwardProxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// Reset forgets the requests seen so far.
func (p *ForwardProxy) Reset() {
	p.mu.Lock()
	p.seen = nil
	p.mu.Unlock()
}

// Close stops the proxy. It is safe to call more than once.
func (p *ForwardProxy) Close() {
	p.closeOnce.Do(func() {
		shutdownServer(p.srv)
		p.mu.Lock()
		for c := range p.tunnels {
			c.Close()
		}
		p.mu.Unlock()
	})
}

func (p *ForwardProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Host
	if r.Method == http.MethodConnect {
		host = r.Host
	}
	p.mu.Lock()
	if r.Method == http.MethodConnect {
		p.seen = append(p.seen, "CONNECT "+host)
	} else {
		p.seen = append(p.seen, r.Method+" "+host+r.URL.Path)
	}
	p.mu.Unlock()
	to, ok := p.routes[host]
	if !ok {
		http.Error(w, "registrytest proxy: no route to "+host, http.StatusBadGateway)
		return
	}
	if r.Method != http.MethodConnect {
		if r.URL.Scheme != "http" {
			http.Error(w, "registrytest proxy: not a proxy request", http.StatusBadRequest)
			return
		}
		p.rp.ServeHTTP(w, r)
		return
	}
	upstream, err := net.DialTimeout("tcp", to, 10*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	p.mu.Lock()
	p.tunnels[conn], p.tunnels[upstream] = struct{}{}, struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.tunnels, conn)
		delete(p.tunnels, upstream)
		p.mu.Unlock()
	}()
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(upstream, buf) // buf holds anything read past the CONNECT
		closeWrite(upstream)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(conn, upstream)
		closeWrite(conn)
		done <- struct{}{}
	}()
	<-done
	<-done
	conn.Close()
	upstream.Close()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
