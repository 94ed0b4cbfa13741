/* Keeps the support library non-empty. */
typedef int vf_test_support_empty_t;
