"""Pages of the assistant: the chat with its sources, a generation's page (writing tools), the
writing page, and the audit log for administrators."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.ai import audit
from apps.ai import selectors as ai_selectors
from apps.ai.calls import is_generative
from apps.ai.models import Conversation, Generation
from apps.tenants.decorators import ability_required

from . import corrections, selectors, services
from .confidence import ABSTAIN_BELOW
from .errors import ToolInputError
from .forms import AssistantSettingsForm, FeedbackForm, QuestionForm, WritingForm
from .rag import abstain_threshold
from .sse import generation_events
from .writing.inputs import validate_inputs
from .writing.tools import TOOLS


def _generation(request, pk) -> Generation:
    return get_object_or_404(selectors.visible_generations(request.user, request.role), pk=pk)


@ability_required("assistant", "ask")
def chat(request):
    conversations = selectors.conversations_of(request.user)[:30]
    conversation = None
    if request.GET.get("conversation"):
        conversation = get_object_or_404(selectors.conversations_of(request.user), pk=request.GET["conversation"])
    form = QuestionForm(
        initial={
            "conversation": conversation.pk if conversation else None,
            "collections": conversation.collections if conversation else [],
        }
    )
    if request.method == "POST":
        form = QuestionForm(request.POST)
        if form.is_valid():
            return _ask(request, form)
        if request.htmx:  # htmx swaps only successful responses: say what is wrong in the thread
            errors = " ".join(str(e) for field_errors in form.errors.values() for e in field_errors)
            return render(request, "assistant/_refused.html", {"message": errors})
    turns = conversation.generations.order_by("pk") if conversation else []
    return render(
        request,
        "assistant/chat.html",
        {
            "form": form,
            "conversations": conversations,
            "conversation": conversation,
            "turns": turns,
            "generative": is_generative(),
        },
        status=400 if form.errors else 200,
    )


def _ask(request, form):
    data = form.cleaned_data
    conversation = None
    if data["conversation"]:
        conversation = get_object_or_404(selectors.conversations_of(request.user), pk=data["conversation"])
    try:
        generation = services.ask_question(
            authority=request.authority,
            user=request.user,
            question=data["question"],
            conversation=conversation,
            collections=[c.pk for c in data["collections"]],
        )
    except services.AssistantError as exc:
        if request.htmx:
            return render(request, "assistant/_refused.html", {"message": exc.user_message})
        messages.error(request, exc.user_message)
        return redirect(f"{request.path}?conversation={conversation.pk}" if conversation else request.path)
    if request.htmx:
        return render(request, "assistant/_turn.html", {"turn": generation, "new": True})
    return redirect(f"{request.path}?conversation={generation.conversation_id}#generation-{generation.pk}")


@ability_required("generations", "stream")
def generation_stream(request, pk):
    return generation_events(_generation(request, pk), request.headers.get("Last-Event-ID", ""))


@ability_required("generations", "retrieve")
def generation_fragment(request, pk):
    """The finished generation, rendered by the server (the stream only carried plain text)."""
    return render(request, "assistant/_generation.html", {"generation": _generation(request, pk)})


@ability_required("generations", "retrieve")
def generation_page(request, pk):
    generation = _generation(request, pk)
    return render(request, "assistant/generation.html", {"generation": generation})


@ability_required("generations", "feedback")
@require_POST
def feedback(request, pk):
    generation = _generation(request, pk)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        services.rate(
            generation=generation,
            rating=1 if form.cleaned_data["rating"] == "up" else -1,
            reason=form.cleaned_data["reason"],
        )
    template = "assistant/_feedback.html"
    if not request.htmx:
        messages.success(request, "Merci pour votre avis.")
        return redirect(request.POST.get("next") or "assistant")
    return render(request, template, {"generation": generation, "thanks": form.is_valid()})


@ability_required("assistant", "tools")
def writing_page(request):
    tools = list(TOOLS.values())
    form = WritingForm(request.POST or None, tools=tools, initial={"task": request.GET.get("outil")})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "task" and v}
        response = _start_tool(request, form.cleaned_data["task"], data)
        if response:
            return response
    return render(
        request,
        "assistant/writing.html",
        {
            "form": form,
            "tools": tools,
            "generative": is_generative(),
            "recent": Generation.objects.filter(user=request.user).exclude(task=Generation.Task.ANSWER)[:10],
        },
    )


@ability_required("assistant", "tools")
@require_POST
def run_tool(request, task):
    """Actions on a document or search results: « Résumer », « Points clés », « Comparer »…"""
    if task not in TOOLS:
        raise PermissionDenied
    data = {
        "document": request.POST.get("document"),
        "documents": request.POST.getlist("documents"),
        "chunks": request.POST.getlist("chunks"),
        "text": request.POST.get("text"),
    }
    data = {k: v for k, v in data.items() if v}
    return _start_tool(request, task, data) or redirect(request.POST.get("next") or "assistant-writing")


def _start_tool(request, task, data):
    try:
        inputs = validate_inputs(task, data)
        generation = services.request_tool(authority=request.authority, user=request.user, task=task, inputs=inputs)
    except (services.AssistantError, ToolInputError) as exc:
        messages.error(request, exc.user_message)
        return None
    return redirect("assistant-generation", pk=generation.pk)


@ability_required("assistant", "tools")
@require_POST
def apply_corrections(request, pk):
    generation = _generation(request, pk)
    if generation.task != Generation.Task.SPELLING or not generation.result.get("changes"):
        raise PermissionDenied
    accepted = {int(i) for i in request.POST.getlist("accepted") if i.isdigit()}
    text = corrections.apply(generation.result["original"], generation.result["changes"], accepted)
    return render(
        request,
        "assistant/_corrected.html",
        {"text": text, "accepted": len(accepted), "total": len(generation.result["changes"])},
    )


@ability_required("assistant", "audit")
def audit_log(request):
    generations = Generation.objects.select_related("user").order_by("-created_at")
    if request.GET.get("format") == "csv":
        return audit.csv_response(generations)
    authority = request.authority
    form = AssistantSettingsForm(request.POST or None, initial={"abstain_below": abstain_threshold(authority)})
    if request.method == "POST" and form.is_valid():
        authority.settings = (authority.settings or {}) | {
            "assistant": (authority.settings or {}).get("assistant", {}) | form.cleaned_data
        }
        authority.save(update_fields=["settings"])
        messages.success(request, "Réglages de l'assistant enregistrés.")
        return redirect("assistant-audit")
    page = Paginator(generations, 50).get_page(request.GET.get("page"))
    quota = ai_selectors.monthly_quota(authority)
    usage = ai_selectors.usage_this_month()
    return render(
        request,
        "assistant/audit.html",
        {
            "page": page,
            "form": form,
            "usage": usage,
            "quota": quota,
            "default_threshold": ABSTAIN_BELOW,
            "used_share": round(100 * (usage["prompt"] + usage["completion"]) / quota) if quota else None,
        },
    )


@ability_required("assistant", "ask")
@require_POST
def delete_conversation(request, pk):
    get_object_or_404(Conversation.objects.filter(user=request.user), pk=pk).delete()
    messages.success(request, "Conversation supprimée.")
    return redirect("assistant")
