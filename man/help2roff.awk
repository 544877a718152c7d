# Turn cvmrestore's own help text into a man page (mode=roff) or an option list (mode=opts), so
# that the man pages and completions say what --help says (man/mkman.sh, completions/mkcomp.sh).
#
#   cvmrestore --help          | awk -f help2roff.awk -v mode=roff -v version=V   -> cvmrestore.1
#                                                     (and -v docdir=DIR: where the docs are)
#   cvmrestore help CMD        | awk -f help2roff.awk -v mode=roff -v version=V   -> cvmrestore-CMD.1
#   cvmrestore help CMD        | awk -f help2roff.awk -v mode=opts                -> LONG TAB SHORT TAB METAVAR TAB HELP
#                                                                        (an absent SHORT or METAVAR is ".")
#   cvmrestore --help          | awk -f help2roff.awk -v mode=commands            -> NAME TAB SUMMARY
#
# The help layout (cli/cli_util.c cli_help, cli/cli_main.c usage): "usage: cvmrestore CMD ARGS",
# a blank line, the summary, "options:" and one line per option ("  -o, --output OUT" or
# "      --all", padded to 30 columns, then the help; a longer left part is followed by one space
# and is taken to end with a metavar), then paragraphs separated by blank lines, the last of
# which starts "exit codes:".

function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}

function option(line,    rest, left, help, n, t) {
	short = ""; long = ""; metavar = ""
	rest = substr(line, 3)
	if (rest ~ /^-[^-], /) {
		short = "-" substr(rest, 2, 1)
		rest = substr(rest, 5)
	} else {
		sub(/^ +/, "", rest)
	}
	if (length(line) > 31 && substr(line, 31, 1) == " " && substr(line, 32, 1) != " ") {
		left = substr(line, 3, 28)
		help = substr(line, 32)
		if (short != "")
			left = substr(left, 5)
		n = split(left, t, " ")
	} else {
		n = split(rest, t, " ")
		n = n > 2 ? 2 : n
		help = rest
		sub(/^[^ ]+( [^ ]+)? /, "", help)
	}
	long = t[1]
	metavar = n > 1 ? t[2] : ""
	return help
}

BEGIN { state = "usage"; npara = 0; nopt = 0; ncmd = 0; para = "" }

NR == 1 {
	usage = $0
	sub(/^usage: /, "", usage)
	main = (usage ~ /^cvmrestore <command>/)
	if (!main) {
		cmd = usage
		sub(/^cvmrestore /, "", cmd)
		args = cmd
		sub(/ .*/, "", cmd)
		sub(/^[^ ]+ ?/, "", args)
	}
	next
}

state == "usage" && /^       cvmrestore / { usage2 = substr($0, 8); next }
state == "usage" && /^$/ { state = "summary"; next }
state == "summary" && /^$/ { next }
state == "summary" { summary = $0; state = "body"; next }
state == "body" && /^options:$/ { state = "options"; next }
state == "body" && /^commands:$/ { state = "commands"; next }
state == "options" && /^  (-[^-], |    )--/ {
	h = option($0)
	nopt++; olong[nopt] = long; oshort[nopt] = short; ometa[nopt] = metavar; ohelp[nopt] = h
	next
}
state == "commands" && /^  [a-z]/ {
	ncmd++
	cname[ncmd] = $1
	csum[ncmd] = $0
	sub(/^ +[^ ]+ +/, "", csum[ncmd])
	next
}
(state == "options" || state == "commands") && /^$/ { state = "paras"; next }
state == "body" && /^$/ { next }
state == "body" { state = "paras" }
state == "paras" && /^$/ { if (para != "") paras[++npara] = para; para = ""; next }
state == "paras" { para = para == "" ? $0 : para "\n" $0; next }

function roff_para(p,    n, l, i, out) {
	n = split(p, l, "\n")
	out = ""
	for (i = 1; i <= n; i++)
		out = out esc(l[i]) "\n"
	return out
}

END {
	if (para != "")
		paras[++npara] = para
	if (mode == "opts") {
		for (i = 1; i <= nopt; i++)
			printf "%s\t%s\t%s\t%s\n", olong[i], oshort[i] == "" ? "." : oshort[i], ometa[i] == "" ? "." : ometa[i], ohelp[i]
		exit 0
	}
	if (mode == "commands") {
		for (i = 1; i <= ncmd; i++)
			printf "%s\t%s\n", cname[i], csum[i]
		exit 0
	}
	page = main ? "cvmrestore" : "cvmrestore-" cmd
	printf ".\\\" Generated from 'cvmrestore %s' by man/help2roff.awk: edit the help text.\n", main ? "--help" : "help " cmd
	printf ".TH \"%s\" \"1\" \"\" \"cvmrestore %s\" \"cvmrestore manual\"\n", toupper(esc(page)), esc(version)
	printf ".SH NAME\n%s \\- %s\n", esc(page), esc(main ? "restore and verify single disks of Azure VM recovery points" : summary)
	printf ".SH SYNOPSIS\n"
	if (main) {
		printf "%s\n.br\n%s\n", esc(usage), esc(usage2)
	} else {
		printf ".B cvmrestore %s\n%s\n", esc(cmd), esc(args)
	}
	printf ".SH DESCRIPTION\n%s\n", esc(summary)
	for (i = 1; i <= npara; i++)
		if (paras[i] !~ /^exit codes:/)
			printf ".PP\n%s", roff_para(paras[i])
	if (ncmd > 0) {
		printf ".SH COMMANDS\n"
		for (i = 1; i <= ncmd; i++)
			printf ".TP\n.B %s\n%s (\\fBcvmrestore\\-%s\\fR(1))\n", esc(cname[i]), esc(csum[i]), esc(cname[i])
	}
	if (nopt > 0) {
		printf ".SH OPTIONS\n"
		for (i = 1; i <= nopt; i++) {
			printf ".TP\n"
			if (oshort[i] != "")
				printf "\\fB%s\\fR, ", esc(oshort[i])
			printf "\\fB%s\\fR", esc(olong[i])
			if (ometa[i] != "")
				printf " \\fI%s\\fR", esc(ometa[i])
			printf "\n%s\n", esc(ohelp[i])
		}
	}
	for (i = 1; i <= npara; i++)
		if (paras[i] ~ /^exit codes:/) {
			p = paras[i]
			sub(/^exit codes: /, "", p)
			printf ".SH \"EXIT STATUS\"\n%s", roff_para(p)
		}
	printf ".SH \"SEE ALSO\"\n"
	if (main) {
		for (i = 1; i <= ncmd; i++)
			printf "\\fBcvmrestore\\-%s\\fR(1)%s\n", esc(cname[i]), i < ncmd ? "," : ""
	} else {
		printf "\\fBcvmrestore\\fR(1)\n"
	}
	if (docdir != "")
		printf ".PP\nREADME.md and docs/ in %s.\n", esc(docdir)
}
