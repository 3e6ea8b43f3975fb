package zeoweb

import (
	"fmt"
	"html/template"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// pageNames are the page templates; each is parsed with the layout and
// the value partial.
var pageNames = []string{"server", "object", "items", "history", "txns", "live", "error"}

var templateFuncs = template.FuncMap{
	"tidtime": func(t zodb.TID) string {
		if t == (zodb.TID{}) {
			return ""
		}
		return fmttime(t.Time())
	},
	"fmttime": fmttime,
}

func fmttime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000 UTC")
}

func parseTemplates() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFiles,
			"templates/layout.html", "templates/node.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("zeoweb: templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}
