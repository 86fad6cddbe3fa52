#include "onsight/journal.h"
#include "onsight/sock.h"
#include "onsight/util.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_journal_writes_one_json_line_per_event)
{
	char *dir = tu_mkdtemp(), *path = NULL, *text = NULL, *nl;
	struct journal *j = NULL;
	json_t *l1, *l2;

	ck_assert_int_ge(asprintf(&path, "%s/events.jsonl", dir), 0);
	ck_assert_int_eq(journal_open(&j, path, "mock-test"), 0);
	ck_assert_int_eq(journal_emit(j, "login", "{s:s, s:i}", "user", "alice", "status", 200), 0);
	ck_assert_int_eq(journal_write(j, "logout", NULL), 0);
	/* Written at once: readable before close. */
	ck_assert_int_eq(file_read(path, 1 << 20, &text, NULL), 0);
	nl = strchr(text, '\n');
	ck_assert_ptr_nonnull(nl);
	l1 = json_loadb(text, (size_t)(nl - text), 0, NULL);
	l2 = json_loads(nl + 1, 0, NULL);
	ck_assert_ptr_nonnull(l1);
	ck_assert_ptr_nonnull(l2);
	ck_assert_str_eq(json_string_value(json_object_get(l1, "event")), "login");
	ck_assert_str_eq(json_string_value(json_object_get(l1, "service")), "mock-test");
	ck_assert_str_eq(json_string_value(json_object_get(l1, "user")), "alice");
	ck_assert_int_eq(json_integer_value(json_object_get(l1, "status")), 200);
	ck_assert(json_is_real(json_object_get(l1, "mono")));
	ck_assert_int_eq((int)strlen(json_string_value(json_object_get(l1, "ts"))), 27);
	ck_assert_str_eq(json_string_value(json_object_get(l2, "event")), "logout");
	ck_assert(json_real_value(json_object_get(l2, "mono")) >=
	          json_real_value(json_object_get(l1, "mono")));
	json_decref(l1);
	json_decref(l2);
	free(text);
	journal_close(j);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_journal_fields_cannot_override_envelope)
{
	char *dir = tu_mkdtemp(), *path = NULL, *text = NULL;
	struct journal *j = NULL;
	json_t *l;

	ck_assert_int_ge(asprintf(&path, "%s/e.jsonl", dir), 0);
	ck_assert_int_eq(journal_open(&j, path, "svc"), 0);
	ck_assert_int_eq(journal_emit(j, "x", "{s:s, s:s}", "event", "forged", "service", "evil"),
	                 0);
	ck_assert_int_eq(file_read(path, 1 << 20, &text, NULL), 0);
	l = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(l, "event")), "x");
	ck_assert_str_eq(json_string_value(json_object_get(l, "service")), "svc");
	json_decref(l);
	free(text);
	journal_close(j);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_journal_survives_crash_of_writer)
{
	char *dir = tu_mkdtemp(), *path = NULL, *text = NULL;
	pid_t pid;
	int st;

	ck_assert_int_ge(asprintf(&path, "%s/e.jsonl", dir), 0);
	pid = fork();
	if (pid == 0) {
		struct journal *j = NULL;
		if (journal_open(&j, path, "svc") == 0)
			journal_emit(j, "before-crash", NULL);
		abort();
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(file_read(path, 1 << 20, &text, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"event\":\"before-crash\""));
	free(text);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_journal_null_path_discards_and_bad_path_fails)
{
	struct journal *j = NULL;

	ck_assert_int_eq(journal_open(&j, NULL, "svc"), 0);
	ck_assert_int_eq(journal_emit(j, "x", "{s:i}", "a", 1), 0);
	journal_close(j);
	j = NULL;
	ck_assert_int_ne(journal_open(&j, "/nonexistent/dir/e.jsonl", "svc"), 0);
	ck_assert_ptr_null(j);
	journal_close(NULL);
}
END_TEST

START_TEST(test_journal_emit_at_names_the_local_address)
{
	char *dir = tu_mkdtemp(), *path = NULL, *text = NULL, *nl;
	struct journal *j = NULL;
	struct sock_addr a, none = {.len = 0};
	json_t *l1, *l2;

	ck_assert_int_ge(asprintf(&path, "%s/e.jsonl", dir), 0);
	ck_assert_int_eq(journal_open(&j, path, "mock-sip"), 0);
	ck_assert_int_eq(sock_addr_parse(&a, "[::1]:5061", 0), 0);
	ck_assert_int_eq(journal_emit_at(j, &a, "register", "{s:s}", "result", "ok"), 0);
	ck_assert_int_eq(journal_emit_at(j, &none, "options", NULL), 0);
	ck_assert_int_eq(file_read(path, 1 << 20, &text, NULL), 0);
	nl = strchr(text, '\n');
	ck_assert_ptr_nonnull(nl);
	l1 = json_loadb(text, (size_t)(nl - text), 0, NULL);
	l2 = json_loads(nl + 1, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(l1, "local")), "[::1]:5061");
	ck_assert_str_eq(json_string_value(json_object_get(l1, "result")), "ok");
	ck_assert_str_eq(json_string_value(json_object_get(l2, "event")), "options");
	ck_assert_ptr_null(json_object_get(l2, "local"));
	json_decref(l1);
	json_decref(l2);
	free(text);
	journal_close(j);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

TU_SUITE("journal", test_journal_writes_one_json_line_per_event,
         test_journal_fields_cannot_override_envelope, test_journal_survives_crash_of_writer,
         test_journal_null_path_discards_and_bad_path_fails,
         test_journal_emit_at_names_the_local_address)
