/* poshtactl's passwords: one line of stdin with --password-stdin, else
 * asked for on the terminal with echo off (twice for a new one, to catch
 * typing errors). New ones are hashed with the core's ps_password_hash;
 * every buffer that held a password is wiped. --hash-stdin takes a hash
 * made elsewhere instead. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "password.h"


static struct termios saved_tty;
static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

/* Interrupted while echo is off: give the terminal back, then die of
 * the signal as if we had not caught it. */
static void
restore_tty(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line of f without its line end, into buf. */
static int
read_line(FILE *f, char *buf, size_t len)
{
	size_t n;

	if (!fgets(buf, (int)len, f))
		return ctl_fail("no password given");
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(f))
		return ctl_fail("password longer than %zu bytes", len - 2);
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return n ? CTL_OK : ctl_fail("empty password");
}

static int
ask(const char *prompt, char *buf, size_t len)
{
	struct sigaction sa = {.sa_handler = restore_tty}, old[NSIGNALS];
	struct termios quiet;
	int code;

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return ctl_fail("cannot read the terminal's settings");
	quiet = saved_tty;
	/* No echo, but the Enter key still moves to the next line. */
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &sa, &old[i]);
	fputs(prompt, stderr);
	fflush(stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	code = read_line(stdin, buf, len);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	return code;
}

int
ctl_password_read(const struct ctl *c, const char *prompt, char *buf,
		  size_t len)
{
	if (c->password_stdin)
		return read_line(stdin, buf, len);
	if (!isatty(STDIN_FILENO))
		return ctl_fail("no terminal to ask for the password on (use "
				"--password-stdin)");
	return ask(prompt, buf, len);
}

static int
read_new(const struct ctl *c, char *first, char *again, size_t len)
{
	if (ctl_password_read(c, "New password: ", first, len) != CTL_OK)
		return CTL_FAIL;
	if (c->password_stdin)
		return CTL_OK;
	if (ask("Again: ", again, len) != CTL_OK)
		return CTL_FAIL;
	return strcmp(first, again) == 0 ? CTL_OK :
		ctl_fail("the passwords do not match");
}

/* A hash made elsewhere (moving users from another server keeps their
 * passwords): one of the schemes logins check, printable, one line. */
static int
read_hash(char *hash, size_t len)
{
	static const char *const schemes[] = {"$y$", "$6$", "$2b$", "$2y$",
					      NULL};

	if (!fgets(hash, (int)len, stdin))
		return ctl_fail("no hash given");
	hash[strcspn(hash, "\r\n")] = '\0';
	for (const char *p = hash; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == ':')
			return ctl_fail("the hash holds a character crypt(3) "
					"does not write");
	for (size_t i = 0; schemes[i]; i++)
		if (strncmp(hash, schemes[i], strlen(schemes[i])) == 0)
			return CTL_OK;
	return ctl_fail("not a yescrypt ($y$), sha512-crypt ($6$) or bcrypt "
			"($2b$) hash");
}

int
ctl_password_new(const struct ctl *c, char *hash, size_t len)
{
	char first[CTL_PASSWORD_MAX], again[CTL_PASSWORD_MAX];
	struct ps_error err = {""};
	int code;

	if (c->hash_stdin)
		return read_hash(hash, len);
	code = read_new(c, first, again, sizeof(first));

	if (code == CTL_OK && ps_password_hash(first, hash, len, &err) < 0)
		code = ctl_fail("%s", err.msg[0] ? err.msg :
				"cannot hash the password");
	explicit_bzero(first, sizeof(first));
	explicit_bzero(again, sizeof(again));
	return code;
}
