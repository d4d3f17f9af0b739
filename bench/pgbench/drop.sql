DROP TABLE IF EXISTS pgbench_chat_messages, pgbench_chat_rooms, pgbench_chat_plain;
