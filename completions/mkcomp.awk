# One command's completion from its option list (man/help2roff.awk mode=opts: LONG TAB SHORT TAB
# METAVAR TAB HELP, "." for none): a bash function (shell=bash) or a zsh _arguments call
# (shell=zsh). Used by completions/mkcomp.sh.
#
# The metavar decides what completes after the option: a list a|b|c its words, DIR
# directories, a number, size, URL, name or text nothing, anything else (FILE, PATH, OUT, IN,
# SEAL.json, ...) files.
BEGIN { FS = "\t" }

function kind(meta) {
	if (meta ~ /\|/)
		return "words"
	if (meta == "DIR")
		return "dirs"
	if (meta ~ /^(N|SIZE|S|MS|ID|URL|TEXT|PERCENT|SECONDS|CIDR|HOST:PORT:ADDR|REGION|NAME|TYPE|LIST|N\/T|I\/N|SAS_URL)$/)
		return "none"
	return "files"
}

function zq(s) { # text inside a single-quoted zsh word, inside _arguments' [...] or :...:
	gsub(/'/, "'\\''", s)
	gsub(/\[/, "(", s)
	gsub(/\]/, ")", s)
	gsub(/:/, "\\:", s)
	return s
}

{
	n++
	long[n] = $1; short[n] = ($2 == "." ? "" : $2); meta[n] = ($3 == "." ? "" : $3); help[n] = $4
}

END {
	fn = cmd
	gsub(/[^a-z0-9_]/, "_", fn)
	if (shell == "bash") {
		printf "_cvmrestore_%s() {\n\tcase $prev in\n", fn
		for (i = 1; i <= n; i++) {
			if (meta[i] == "")
				continue
			k = kind(meta[i])
			w = meta[i]
			gsub(/\|/, " ", w)
			pat = short[i] == "" ? long[i] : short[i] " | " long[i]
			if (k == "words")
				act = "COMPREPLY=($(compgen -W \"" w "\" -- \"$cur\"))"
			else if (k == "dirs")
				act = "COMPREPLY=($(compgen -d -- \"$cur\"))"
			else if (k == "files")
				act = "COMPREPLY=($(compgen -f -- \"$cur\"))"
			else
				act = "COMPREPLY=()"
			printf "\t%s) %s; return ;;\n", pat, act
		}
		printf "\tesac\n\tif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W \""
		for (i = 1; i <= n; i++)
			printf "%s%s%s", (i > 1 ? " " : ""), long[i], (short[i] != "" ? " " short[i] : "")
		printf "\" -- \"$cur\"))\n\telse\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\tfi\n}\n"
	} else {
		printf "\t%s)\n\t\t_arguments -s \\\n", cmd
		for (i = 1; i <= n; i++) {
			rep = help[i] ~ /repeat/ ? "*" : ""
			val = ""
			if (meta[i] != "") {
				k = kind(meta[i])
				w = meta[i]
				gsub(/\|/, " ", w)
				if (k == "words")
					val = ":" zq(meta[i]) ":(" w ")"
				else if (k == "dirs")
					val = ":" zq(meta[i]) ":_files -/"
				else if (k == "files")
					val = ":" zq(meta[i]) ":_files"
				else
					val = ":" zq(meta[i]) ": "
			}
			if (short[i] != "")
				printf "\t\t\t'%s(%s %s)'{%s,%s}'[%s]%s' \\\n", rep, short[i], long[i], short[i], long[i], zq(help[i]), val
			else
				printf "\t\t\t'%s%s[%s]%s' \\\n", rep, long[i], zq(help[i]), val
		}
		printf "\t\t\t'*:file:_files'\n\t\t;;\n"
	}
}
