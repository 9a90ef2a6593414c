package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber"
)

type loginOptions struct {
	username      string
	passwordStdin bool
	password      string // refused: see runLogin
}

func newLoginCmd(g *globalOptions) *cobra.Command {
	o := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login REGISTRY",
		Short: "Log in to a registry, storing the credential where docker does",
		Long: `login checks a username and password (or token) against REGISTRY and
stores them as docker does: with the credential helper the docker config
names (credsStore, credHelpers), else in the config file itself. docker and
blobber then share the login.

The password is read from stdin with --password-stdin, or asked for without
echo when stdin is a terminal; it is never taken on the command line.`,
		Example: `  blobber login ghcr.io -u octocat --password-stdin < token.txt
  echo "$TOKEN" | blobber login registry.example.com:5000 -u ci --password-stdin
  blobber login docker.io`,
		Args: exactArgs(1, "REGISTRY"),
		RunE: func(cmd *cobra.Command, args []string) error { return runLogin(cmd, g, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.username, "username", "u", "", "username (asked for when stdin is a terminal)")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password or token from stdin")
	f.StringVarP(&o.password, "password", "p", "", "")
	_ = f.MarkHidden("password")
	return cmd
}

func runLogin(cmd *cobra.Command, g *globalOptions, o *loginOptions, arg string) error {
	if err := g.refuseOffline("login", false); err != nil {
		return err
	}
	if cmd.Flags().Changed("password") {
		// Not even echoed back: it would land in the terminal's scrollback.
		return usagef("login: blobber does not take a password on the command line, where shell history and process lists keep it; pipe it to --password-stdin")
	}
	host, err := registryHost(arg)
	if err != nil {
		return err
	}
	store, err := g.credentialStore()
	if err != nil {
		return err
	}
	username, password, err := readCredential(cmd, o)
	if err != nil {
		return err
	}
	c, err := g.client(cmd)
	if err != nil {
		return err
	}
	helper, err := c.Login(cmd.Context(), store, host, username, password)
	if err != nil {
		var resp *errcode.ErrorResponse
		if errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return &loginRefused{host: host, resp: resp}
		}
		return err
	}
	if helper == "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "blobber: warning: the credential is stored unencrypted in %s; configure a credential helper (\"credsStore\") to keep it in a keychain\n", store.Path())
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), "Login Succeeded")
	return err
}

// readCredential gets the username and password from the flags, stdin or
// the terminal.
func readCredential(cmd *cobra.Command, o *loginOptions) (username, password string, err error) {
	username = o.username
	stdin := cmd.InOrStdin()
	if o.passwordStdin {
		if username == "" {
			return "", "", usagef("login: --password-stdin needs --username")
		}
		data, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
		if err != nil {
			return "", "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	} else {
		f, ok := stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", "", usagef("login: stdin is not a terminal: pass --username and pipe the password to --password-stdin")
		}
		prompt := cmd.ErrOrStderr()
		if username == "" {
			fmt.Fprint(prompt, "Username: ")
			line, err := bufio.NewReader(f).ReadString('\n')
			if err != nil && line == "" {
				return "", "", fmt.Errorf("reading the username: %w", err)
			}
			username = strings.TrimSpace(line)
		}
		fmt.Fprint(prompt, "Password: ")
		secret, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", "", fmt.Errorf("reading the password: %w", err)
		}
		password = string(secret)
	}
	if username == "" {
		return "", "", usagef("login: no username")
	}
	if password == "" {
		return "", "", usagef("login: no password")
	}
	return username, password, nil
}

// registryHost accepts what docker login does: a host[:port], with or
// without a scheme and path ("https://index.docker.io/v1/" is Docker Hub).
func registryHost(arg string) (string, error) {
	host := strings.TrimPrefix(strings.TrimPrefix(arg, "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	switch host {
	case "":
		return "", usagef("login: no registry in %q", arg)
	case "index.docker.io", "registry-1.docker.io":
		host = "docker.io"
	}
	return host, nil
}

// loginRefused is a registry's refusal of the credentials given to login.
type loginRefused struct {
	host string
	resp *errcode.ErrorResponse
}

func (e *loginRefused) Error() string {
	what := "unauthorized"
	if e.resp.StatusCode == http.StatusForbidden {
		what = "denied"
	}
	if len(e.resp.Errors) > 0 {
		var said []string
		for _, r := range e.resp.Errors {
			said = append(said, strings.ToLower(r.Message))
		}
		what += " (" + strings.Join(said, "; ") + ")"
	}
	return fmt.Sprintf("login to %s: %s: check the username and password", e.host, what)
}

func (e *loginRefused) Is(target error) bool { return target == blobber.ErrUnauthorized }
