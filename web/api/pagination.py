from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """``{count, next, previous, results}``, LIST_PAGE_SIZE rows a page as on the pages;
    clients may ask for up to 100 rows a page."""

    page_size = settings.LIST_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 100
