from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.tenants.abilities import can
from apps.tenants.decorators import ability_required

from . import services
from .forms import CollectionForm, SearchForm, UploadForm
from .models import Collection, Document
from .search import search
from .selectors import collection_name_taken, documents_with_jobs, filters_from

ACTIVE_STATES = (Document.State.PENDING, Document.State.PROCESSING)


@ability_required("documents", "list")
def document_list(request):
    """Documents with their indexing state; htmx refreshes the table while some are in progress."""
    if request.method == "POST":
        return _upload(request)
    template = "documents/_table.html" if request.htmx else "documents/list.html"
    return _render_list(request, template, UploadForm())


def _render_list(request, template, form, status=200):
    page = Paginator(documents_with_jobs(), 50).get_page(request.GET.get("page"))
    context = {"page": page, "form": form, "any_active": any(d.state in ACTIVE_STATES for d in page.object_list)}
    return render(request, template, context, status=status)


def _upload(request):
    if not can(request.role, "documents", "create"):
        raise PermissionDenied
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_list(request, "documents/list.html", form, status=400)
    data = form.cleaned_data
    outcomes = services.add_uploads(
        authority=request.authority,
        files=data["files"],
        created_by=request.user,
        collection=data["collection"],
        kind=data["kind"],
        date=data["date"],
    )
    created = [o for o in outcomes if o.created]
    known = [o for o in outcomes if o.document and not o.created]
    if created:
        messages.success(request, f"{len(created)} document(s) ajouté(s) : l'indexation est en cours.")
    for outcome in known:
        messages.info(request, f"« {outcome.filename} » est déjà présent (« {outcome.document.title} »).")
    for outcome in outcomes:
        if outcome.error:
            messages.error(request, outcome.error)
    return redirect("documents")


@ability_required("documents", "retrieve")
def document_detail(request, pk):
    document = get_object_or_404(Document.objects.select_related("collection", "job", "created_by"), pk=pk)
    show_chunks = can(request.role, "documents", "chunks") and request.GET.get("passages") == "1"
    chunks = document.chunks.order_by("position") if show_chunks else None
    # Candidates for the assistant's « Comparer avec… » action.
    comparable = (
        Document.objects.filter(state=Document.State.INDEXED)
        .exclude(pk=pk)
        .order_by("-date", "title")
        .values_list("pk", "title")[:300]
    )
    return render(request, "documents/detail.html", {"document": document, "chunks": chunks, "comparable": comparable})


@ability_required("documents", "download")
def document_file(request, pk):
    document = get_object_or_404(Document, pk=pk)
    response = FileResponse(
        document.file.open("rb"),
        filename=document.original_filename,
        as_attachment=request.GET.get("telecharger") == "1" or not document.shows_inline,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@ability_required("documents", "reindex")
@require_POST
def document_reindex(request, pk):
    document = services.reindex_document(document=get_object_or_404(Document, pk=pk), created_by=request.user)
    messages.success(request, f"« {document.title} » sera indexé à nouveau.")
    return redirect("document-detail", pk=document.pk)


@ability_required("documents", "destroy")
@require_POST
def document_delete(request, pk):
    document = get_object_or_404(Document, pk=pk)
    services.delete_document(document=document)
    messages.success(request, f"« {document.title} » est supprimé, ainsi que ses passages indexés.")
    return redirect("documents")


@ability_required("documents", "search")
def search_page(request):
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        results = search(
            authority_id=request.authority.pk,
            query=form.cleaned_data["q"],
            filters=filters_from(form.cleaned_data),
            limit=20,
        )
    return render(request, "documents/search.html", {"form": form, "results": results})


@ability_required("collections", "create")
def collections(request):
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if collection_name_taken(form.cleaned_data["name"]):
            form.add_error("name", "Une collection porte déjà ce nom.")
        else:
            collection = form.save(commit=False)
            collection.authority = request.authority
            collection.save()
            messages.success(request, f"Collection « {collection.name} » créée.")
            return redirect("collections")
    return render(
        request, "documents/collections.html", {"form": form, "collections": Collection.objects.order_by("name")}
    )
