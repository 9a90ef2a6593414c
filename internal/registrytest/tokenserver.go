package registrytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/auth/token"
)

// auth) and OAuth2 (POST with grant_type password or refresh_token).
type TokenServer struct {
	cfg     TokenAuth
	service string
	key     *ecdsa.PrivateKey
	kid     string
	srv     *http.Server
	host    string
	scheme  string

	requests atomic.Int64
	expired  atomic.Int64
	ttlNanos atomic.Int64 // cfg.TTL, or what SetTTL set

	mu      sync.Mutex
	expires map[string]time.Time // by JWT ID
}

const tokenIssuer = "registrytest-token-issuer"

// startTokenServer starts the token server and returns the registry's
// auth configuration, with the root certificate bundle written to dir.
func startTokenServer(cfg TokenAuth, dir string, tlsConfig *tls.Config) (*TokenServer, configuration.Auth, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	// Distribution trusts the keys of the certificates in its root bundle,
	// and finds the one that signed a token by the JWK thumbprint in the
	// token's "kid" header.
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: tokenIssuer},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	bundle := filepath.Join(dir, "token-root.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	ts := &TokenServer{
		cfg:     cfg,
		key:     key,
		kid:     token.GetJWKThumbprint(&key.PublicKey),
		host:    ln.Addr().String(),
		scheme:  "http",
		expires: map[string]time.Time{},
	}
	ts.ttlNanos.Store(int64(cfg.TTL))
	ts.service = "registrytest:" + ts.host
	if tlsConfig != nil {
		ts.scheme = "https"
		ln = tls.NewListener(ln, tlsConfig)
	}
	ts.srv = &http.Server{Handler: ts, ReadHeaderTimeout: 30 * time.Second, ErrorLog: discardLog}
	go func() { _ = ts.srv.Serve(ln) }()
	auth := configuration.Auth{"token": {
		"realm":          ts.Realm(),
		"service":        ts.service,
		"issuer":         tokenIssuer,
		"rootcertbundle": bundle,
	}}
	return ts, auth, nil
}

// Realm is the token endpoint the registry announces in its challenges.
func (ts *TokenServer) Realm() string { return ts.scheme + "://" + ts.host + "/token" }

// Requests is how many token requests the server has answered.
func (ts *TokenServer) Requests() int64 { return ts.requests.Load() }

// SetTTL sets how long the tokens issued from now on live, so that a test
// can set up with tokens that outlive any slowness of the machine and then
// make them expire within the operation it tests.
func (ts *TokenServer) SetTTL(d time.Duration) { ts.ttlNanos.Store(int64(d)) }

func (ts *TokenServer) ttl() time.Duration { return time.Duration(ts.ttlNanos.Load()) }

// ExpiredUses is how many requests the registry refused because their
// token had expired.
func (ts *TokenServer) ExpiredUses() int64 { return ts.expired.Load() }

func (ts *TokenServer) close() { shutdownServer(ts.srv) }

type tokenError struct {
	status  int
	code    string
	message string
}

func (ts *TokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ts.requests.Add(1)
	if r.URL.Path != "/token" {
		http.NotFound(w, r)
		return
	}
	user, scopes, terr := ts.authenticate(r)
	if terr != nil {
		if terr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="registrytest-token"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(terr.status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"errors": []map[string]string{{"code": terr.code, "message": terr.message}},
		})
		return
	}
	signed, err := ts.issue(user, ts.grant(user, scopes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token":        signed,
		"access_token": signed,
		"expires_in":   int(ts.ttl() / time.Second),
		"issued_at":    time.Now().UTC().Format(time.RFC3339),
	})
}

var errBadCredentials = &tokenError{http.StatusUnauthorized, "UNAUTHORIZED", "incorrect username or password"}

// authenticate returns the user ("" for anonymous) and requested scopes.
func (ts *TokenServer) authenticate(r *http.Request) (string, []string, *tokenError) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if q.Get("service") != ts.service {
			return "", nil, &tokenError{http.StatusBadRequest, "DENIED", "unknown service"}
		}
		var scopes []string
		for _, s := range q["scope"] {
			scopes = append(scopes, strings.Fields(s)...)
		}
		name, password, ok := r.BasicAuth()
		if !ok {
			return "", scopes, nil
		}
		if !ts.checkPassword(name, password) {
			return "", nil, errBadCredentials
		}
		return name, scopes, nil
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			return "", nil, &tokenError{http.StatusBadRequest, "DENIED", "bad form"}
		}
		if r.PostForm.Get("service") != ts.service {
			return "", nil, &tokenError{http.StatusBadRequest, "DENIED", "unknown service"}
		}
		scopes := strings.Fields(r.PostForm.Get("scope"))
		switch r.PostForm.Get("grant_type") {
		case "password":
			name := r.PostForm.Get("username")
			if !ts.checkPassword(name, r.PostForm.Get("password")) {
				return "", nil, errBadCredentials
			}
			return name, scopes, nil
		case "refresh_token":
			name, ok := ts.cfg.IdentityTokens[r.PostForm.Get("refresh_token")]
			if !ok {
				return "", nil, &tokenError{http.StatusUnauthorized, "UNAUTHORIZED", "invalid refresh token"}
			}
			return name, scopes, nil
		}
		return "", nil, &tokenError{http.StatusBadRequest, "UNSUPPORTED", "unsupported grant_type"}
	}
	return "", nil, &tokenError{http.StatusMethodNotAllowed, "UNSUPPORTED", "method not allowed"}
}

func (ts *TokenServer) checkPassword(name, password string) bool {
	want, ok := ts.cfg.Users[name]
	if !ok {
		want, ok = ts.cfg.Readers[name]
	}
	return ok && subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
}

// grant returns what user may do of what the scopes ask.
func (ts *TokenServer) grant(user string, scopes []string) []*token.ResourceActions {
	var out []*token.ResourceActions
	for _, scope := range scopes {
		typ, rest, ok := strings.Cut(scope, ":")
		i := strings.LastIndex(rest, ":")
		if !ok || i < 0 || typ != "repository" {
			continue
		}
		name, wanted := rest[:i], strings.Split(rest[i+1:], ",")
		var allowed []string
		_, writer := ts.cfg.Users[user]
		_, reader := ts.cfg.Readers[user]
		under := func(p string) bool { return strings.HasPrefix(name, p) }
		if prefixes, limited := ts.cfg.Repositories[user]; limited && !slices.ContainsFunc(prefixes, under) {
			writer, reader = false, false
		}
		public := slices.ContainsFunc(ts.cfg.PublicPrefixes, under)
		for _, action := range wanted {
			switch {
			case writer && (action == "pull" || action == "push" || action == "delete"),
				(reader || public) && action == "pull":
				allowed = append(allowed, action)
			}
		}
		out = append(out, &token.ResourceActions{Type: typ, Name: name, Actions: allowed})
	}
	return out
}

// issue signs an ES256 JWT as Distribution's token access controller
// expects it.
func (ts *TokenServer) issue(user string, access []*token.ResourceActions) (string, error) {
	now := time.Now()
	exp := now.Add(ts.ttl())
	jti := base64.RawURLEncoding.EncodeToString(serial().Bytes())
	claims := token.ClaimSet{
		Issuer:   tokenIssuer,
		Subject:  user,
		Audience: token.AudienceList{ts.service},
		// Whole seconds, rounded up: the registry enforces the exact
		// expiry through expiryGuard.
		Expiration: exp.Add(time.Second - 1).Unix(),
		NotBefore:  now.Add(-time.Second).Unix(),
		IssuedAt:   now.Unix(),
		JWTID:      jti,
		Access:     access,
	}
	header, err := json.Marshal(map[string]string{"typ": "JWT", "alg": "ES256", "kid": ts.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, ts.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	ts.mu.Lock()
	ts.expires[jti] = exp
	ts.mu.Unlock()
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// expired tells whether a bearer token was issued here and has expired.
func (ts *TokenServer) isExpired(bearer string) bool {
	parts := strings.Split(bearer, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return false
	}
	ts.mu.Lock()
	exp, ok := ts.expires[claims.JTI]
	ts.mu.Unlock()
	return ok && time.Now().After(exp)
}

// expiryGuard sits in front of the registry and drops an expired token from
// a request, so that the registry challenges the client for a new one.
type expiryGuard struct {
	ts   *TokenServer
	next http.Handler
}

func (g expiryGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if scheme, bearer, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok &&
		strings.EqualFold(scheme, "bearer") && g.ts.isExpired(bearer) {
		g.ts.expired.Add(1)
		r.Header.Del("Authorization")
	}
	g.next.ServeHTTP(w, r)
}
