/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker role (see worker.c). argv starts at the task name.
 */
#pragma once

int orch_worker_main(int argc, char **argv);
