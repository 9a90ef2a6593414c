package blobber

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/blobber-dev/blobber/internal/toc"
)

// writeListing answers with an HTML page that links each entry of the
// directory e, reached at urlPath (which ends with a slash). Names are
// escaped both as URLs and as HTML: an artifact's names are whatever its
// publisher chose.
func writeListing(w http.ResponseWriter, r *http.Request, urlPath string, e *toc.Entry) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		return
	}
	var b strings.Builder
	title := html.EscapeString("Index of " + urlPath)
	fmt.Fprintf(&b, "<!doctype html>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<h1>%s</h1>\n<pre>\n", title, title)
	if urlPath != "/" {
		b.WriteString("<a href=\"../\">../</a>\n")
	}
	for _, c := range e.Children() {
		name := path.Base(c.Name)
		if c.Type == toc.TypeDir {
			name += "/"
		}
		// A name with a colon must not read as a scheme: "./" keeps the
		// link relative.
		href := (&url.URL{Path: "./" + name}).EscapedPath()
		size := ""
		if c.Type == toc.TypeReg {
			size = fmt.Sprint(c.Size)
		}
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a> %s\n", html.EscapeString(href), html.EscapeString(name), size)
	}
	b.WriteString("</pre>\n")
	_, _ = w.Write([]byte(b.String()))
}
