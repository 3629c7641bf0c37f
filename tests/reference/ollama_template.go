// Reads an Ollama Modelfile as Ollama's parser reads it (one instruction a line, values plain to the end of
// the line, "quoted" or """triple-quoted""" over several lines) and executes its TEMPLATE with Go's
// text/template, as Ollama does, on conversations given as JSON. The tests compare what it renders with
// the chat template the model was trained with.
//
// usage: go run ollama_template.go MODELFILE CONVERSATIONS.json
// CONVERSATIONS.json: [[{"role": "user", "content": "..."}, ...], ...]
// Prints JSON: {"instructions": [[name, value], ...], "rendered": ["...", ...]}.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

var known = map[string]bool{"from": true, "adapter": true, "template": true, "system": true,
	"parameter": true, "license": true, "message": true, "requires": true}

func parse(text string) ([][2]string, error) {
	var out [][2]string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, " ", 2)
		name := strings.ToLower(fields[0])
		if !known[name] {
			return nil, fmt.Errorf("line %d: unknown instruction %q", i+1, fields[0])
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: %s has no value", i+1, fields[0])
		}
		value := fields[1]
		if strings.HasPrefix(value, `"""`) {
			rest := value[3:]
			for !strings.Contains(rest, `"""`) {
				i++
				if i >= len(lines) {
					return nil, fmt.Errorf("unterminated \"\"\" in %s", fields[0])
				}
				rest += "\n" + lines[i]
			}
			end := strings.Index(rest, `"""`)
			if strings.TrimSpace(rest[end+3:]) != "" {
				return nil, fmt.Errorf("line %d: text after the closing \"\"\"", i+1)
			}
			value = rest[:end]
		} else if name == "parameter" {
			parts := strings.SplitN(value, " ", 2)
			if len(parts) < 2 {
				return nil, fmt.Errorf("line %d: PARAMETER needs a name and a value", i+1)
			}
		}
		out = append(out, [2]string{name, value})
	}
	return out, nil
}

func main() {
	modelfile, err := os.ReadFile(os.Args[1])
	check(err)
	instructions, err := parse(string(modelfile))
	check(err)
	var conversations [][]message
	raw, err := os.ReadFile(os.Args[2])
	check(err)
	check(json.Unmarshal(raw, &conversations))
	system, source := "", ""
	for _, instruction := range instructions {
		switch instruction[0] {
		case "system":
			system = instruction[1]
		case "template":
			source = instruction[1]
		}
	}
	tmpl, err := template.New("TEMPLATE").Parse(source)
	check(err)
	rendered := []string{}
	for _, conversation := range conversations {
		// Ollama puts the Modelfile's SYSTEM first when the conversation has no system message.
		messages := conversation
		if system != "" && (len(messages) == 0 || messages[0].Role != "system") {
			messages = append([]message{{Role: "system", Content: system}}, messages...)
		}
		var out strings.Builder
		prompt := ""
		if len(messages) > 0 {
			prompt = messages[len(messages)-1].Content
		}
		check(tmpl.Execute(&out, map[string]any{"Messages": messages, "System": system, "Prompt": prompt}))
		rendered = append(rendered, out.String())
	}
	result, err := json.Marshal(map[string]any{"instructions": instructions, "rendered": rendered})
	check(err)
	fmt.Println(string(result))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ollama_template:", err)
		os.Exit(1)
	}
}
